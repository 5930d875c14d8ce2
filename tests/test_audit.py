"""The audit log page (/audit/) and each stream's recent history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl
from streams.models import AuditEntry

pytestmark = pytest.mark.django_db

START = datetime(2025, 11, 27, 9, 0, tzinfo=UTC)


def entry(minutes: int, **fields: Any) -> AuditEntry:
    """An entry written `minutes` after START (created_at is set by the database, so it is moved after)."""
    values = {
        "username": "ana",
        "action": "finish",
        "stream_id": "a" * 32,
        "stream_name": "Main stage",
        "outcome": "done",
        **fields,
    }
    created = AuditEntry.objects.create(**values)
    AuditEntry.objects.filter(pk=created.pk).update(created_at=START + timedelta(minutes=minutes))
    return created


def row_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'<tr id="audit-(\d+)">', html)]


def test_the_log_lists_entries_newest_first(admin_client: Client) -> None:
    older = entry(1, message="first")
    newest = entry(30, message="third")
    middle = entry(10, message="second")
    html = admin_client.get("/audit/").content.decode()
    assert row_ids(html) == [newest.pk, middle.pk, older.pk]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stream=" + "b" * 32, ["b-stream"]),
        ("stream=backstage", ["b-stream"]),
        ("user=BEN", ["b-stream", "ben-finish"]),
        ("action=delete", ["b-stream"]),
        ("outcome=refused", ["ben-finish"]),
        ("user=ben&action=finish", ["ben-finish"]),
        ("action=not-an-action", ["b-stream", "ben-finish", "ana-finish"]),
    ],
)
def test_filters_narrow_the_log(admin_client: Client, query: str, expected: list[str]) -> None:
    entries = {
        "ana-finish": entry(1),
        "ben-finish": entry(2, username="ben", outcome="refused"),
        "b-stream": entry(3, username="ben", action="delete", stream_id="b" * 32, stream_name="Backstage"),
    }
    html = admin_client.get(f"/audit/?{query}").content.decode()
    assert row_ids(html) == [entries[name].pk for name in expected]


def test_the_filter_form_works_without_javascript_and_keeps_its_values(admin_client: Client) -> None:
    html = admin_client.get("/audit/?user=ben&action=delete").content.decode()
    assert '<form class="toolbar" method="get" action="/audit/"' in html
    assert 'name="user" value="ben"' in html
    assert '<option value="delete" selected>Delete</option>' in html
    assert "Nothing matches these filters." in html


def test_the_log_is_paginated_fifty_to_a_page_and_keeps_the_filters(admin_client: Client) -> None:
    for minute in range(120):
        entry(minute, username="ben")
    first = admin_client.get("/audit/?user=ben").content.decode()
    assert len(row_ids(first)) == 50
    assert "Page 1 of 3" in first
    assert '<a href="?user=ben&amp;page=2" rel="next">Next</a>' in first
    last = admin_client.get("/audit/?user=ben&page=3").content.decode()
    assert len(row_ids(last)) == 20
    assert '<a href="?user=ben&amp;page=2" rel="prev">Previous</a>' in last
    assert row_ids(admin_client.get("/audit/?user=ben&page=99").content.decode()) == row_ids(last)


def test_an_edit_shows_what_changed(admin_client: Client) -> None:
    entry(
        1,
        action="edit",
        before={"metadata": {"livestream_name": "Main stage", "room": "A"}, "reconnectWindow": 60},
        after={"metadata": {"livestream_name": "Main stage", "floor": "2"}, "reconnectWindow": 120},
    )
    html = admin_client.get("/audit/").content.decode()
    assert 'Metadata “room”: <del>A</del> → <span class="muted">(removed)</span>' in html
    assert 'Metadata “floor”: <span class="muted">(not set)</span> → <ins>2</ins>' in html
    assert "Reconnect window (s): <del>60</del> → <ins>120</ins>" in html
    assert "livestream_name" not in html  # unchanged fields are left out


@pytest.mark.parametrize("role", ["producer", "reviewer"])
def test_only_a_stream_admin_can_read_the_log(client: Client, make_user: Any, role: str) -> None:
    entry(1)
    client.force_login(make_user(role))
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "Main stage" not in response.content.decode()


def test_the_log_cannot_be_changed_from_the_ui(admin_client: Client) -> None:
    entry(1)
    assert admin_client.post("/audit/", {"action": "delete"}).status_code == 405
    assert AuditEntry.objects.count() == 1
    html = admin_client.get("/audit/").content.decode()
    assert html.count('method="post"') == 1  # only "Sign out"


def test_an_action_taken_in_the_console_appears_in_the_log(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})
    admin_client.post(f"/streams/{stream['streamId']}/finish/")
    html = admin_client.get(f"/audit/?stream={stream['streamId']}").content.decode()
    assert len(row_ids(html)) == 1
    assert '<td data-label="User"><span class="cap">admin-user</span></td>' in html
    assert '<td data-label="Action">Finish</td>' in html


def test_a_streams_page_shows_its_own_recent_history(admin_client: Client, emulator: EmulatorControl) -> None:
    stream = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})
    stream_id = stream["streamId"]
    for minute in range(12):
        entry(minute, stream_id=stream_id, message=f"attempt {minute}")
    entry(99, stream_id="c" * 32, message="another stream")
    html = admin_client.get(f"/streams/{stream_id}/").content.decode()
    history = html[html.index('id="stream-history"') :]
    assert history.count("<li>") == 10
    assert history.index("attempt 11") < history.index("attempt 2")
    assert "attempt 1<" not in history  # the two oldest are beyond the last ten
    assert "another stream" not in history
    assert f'href="/audit/?stream={stream_id}"' in history
