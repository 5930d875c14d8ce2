"""The audit log accepts anything a request or a FastPix answer can carry (issue 11, items 7 and 9).

PostgreSQL rejects U+0000 in text and jsonb and enforces the columns' lengths; SQLite does neither. So each
test checks the exact values that were stored, which is what makes them fail on SQLite too when a value is
not sanitised (`make test`), and the writes themselves succeed on PostgreSQL (`make test-services`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client, RequestFactory

from emulator.testing import EmulatorControl
from streams import audit
from streams.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(make_user: Any) -> User:
    user: User = make_user("admin", "ann")
    return user


@pytest.fixture
def request_by(ann: User) -> HttpRequest:
    request = RequestFactory().post("/streams/")
    request.user = ann
    return request


def stored() -> AuditEntry:
    """The one entry, as the database gives it back."""
    return AuditEntry.objects.get()


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for this one")


class Printable:
    def __str__(self) -> str:
        return "printable\x00 object"


def test_nul_characters_are_removed_from_every_column_and_every_json_string(request_by: HttpRequest) -> None:
    audit.record(
        request_by,
        "finish",
        stream_id="0123\x00abcd",
        stream_name="Main\x00 stage",
        outcome="refused",
        message="stream\x00 not found",
        before={"meta\x00data": {"livestream_name": "Ma\x00in", "\x00": ["a\x00", "\x00\x00"]}},
        after="\x00gone",
    )
    entry = stored()
    assert (entry.stream_id, entry.stream_name, entry.message) == (
        "0123abcd",
        "Main stage",
        "stream not found",
    )
    assert entry.before == {"metadata": {"livestream_name": "Main", "": ["a", ""]}}
    assert entry.after == "gone"


def test_long_values_are_cut_to_their_columns_with_a_mark(request_by: HttpRequest, ann: User) -> None:
    ann.username = "u" * 400  # in memory only: longer than its column (a remote-user header could be)
    audit.record(
        request_by,
        "reveal",
        stream_id="a" * 4000,
        stream_name="n" * 1000,
        outcome="failed",
        message="m" * 5000,
        before={"k" * 3000: "v" * 3000},
    )
    entry = stored()
    assert entry.username == "u" * 149 + "…"
    assert entry.stream_id == "a" * 63 + "…"
    assert entry.stream_name == "n" * 299 + "…"
    assert entry.message == "m" * 1999 + "…"
    assert entry.before == {"k" * 1999 + "…": "v" * 1999 + "…"}


def test_values_json_cannot_hold_are_kept_as_text(request_by: HttpRequest) -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    deep: list[Any] = []
    for _ in range(2000):
        deep = [deep]
    audit.record(
        request_by,
        "edit",
        stream_id="0" * 32,
        outcome="done",
        before={
            "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
            "amount": Decimal("1.50"),
            "tags": {"only"},
            "raw": b"by\x00tes \xff",
            "object": Printable(),
            "unprintable": Unprintable(),
            1: "an int key",
            ("a", "b"): "a tuple key",
            "nan": float("nan"),
            "infinity": float("-inf"),
            "big": 10**30,
            "huge": 10**5000,
            "surrogate": "lone \ud800 half",
            "tuple": (1, 2.5, True, None),
        },
        after={"cyclic": cyclic, "deep": deep},
    )
    entry = stored()
    assert entry.before == {
        "when": "2025-01-02 03:04:05+00:00",
        "amount": "1.50",
        "tags": "{'only'}",
        "raw": "bytes \ufffd",
        "object": "printable object",
        "unprintable": "<Unprintable>",
        "1": "an int key",
        "('a', 'b')": "a tuple key",
        "nan": "nan",
        "infinity": "-inf",
        "big": "1" + "0" * 30,
        "huge": "<int>",
        "surrogate": "lone \ufffd half",
        "tuple": [1, 2.5, True, None],
    }
    # Nesting stops at MAX_DEPTH: below it, the rest is kept as (cut) text.
    level = entry.after["cyclic"]
    for _ in range(audit.MAX_DEPTH - 2):
        level = level["self"]
    assert level["self"] == "{'self': {...}}"
    assert json.dumps(entry.after["deep"]).count("[") == audit.MAX_DEPTH - 1


def test_a_fastpix_answer_with_a_malformed_id_and_a_hostile_name_is_audited_as_it_can_be_stored(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    """A reveal audits what FastPix describes: a name far beyond its column and with NUL. A stream id that
    is not one (here 4032 characters) is not taken from the answer: the entry keeps the id asked for."""
    stream_id = emulator.create_stream(metadata={"livestream_name": "Main stage"})["streamId"]
    hostile_id = stream_id + "e" * 4000
    body = {
        "success": True,
        "data": {
            "streamId": hostile_id,
            "status": "idle",
            "streamKey": "sk-1",
            "metadata": {"livestream_name": "Main\x00 stage " + "x" * 400},
        },
    }
    emulator.add_fault(
        f"^/v1/live/streams/{stream_id}$",
        method="GET",
        raw_body=json.dumps(body),
        content_type="application/json",
    )
    response = admin_client.post(f"/streams/{stream_id}/reveal/", {"secret": "stream_key"})
    assert response.status_code == 200
    assert "sk-1" in response.content.decode()
    entry = stored()
    assert (entry.action, entry.outcome, entry.message) == ("reveal", "done", "Stream key revealed")
    assert entry.stream_id == stream_id
    assert entry.stream_name == ("Main stage " + "x" * 400)[:299] + "…"


def test_sanitising_never_raises_and_leaves_ordinary_values_alone() -> None:
    ordinary = {"metadata": {"livestream_name": "Main stage"}, "reconnectWindow": 60, "ok": True, "x": None}
    assert audit.storable(ordinary) == ordinary
    assert audit.clean_text("Main stage", 300) == "Main stage"
    assert audit.clean_text(Unprintable(), 5) == "<Unp…"
    assert audit.clean_text("abc", 0) == ""
