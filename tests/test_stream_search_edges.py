"""The stream list's search, sort and paging at their edges: LIKE's wildcards, case beyond ASCII, a NUL,
an id's beginning that is also in a name, NULL and 0 viewers, ties across pages, and values in the address
the list does not know. Rows are put in the mirror directly, with the ids the test needs; these also run on
PostgreSQL (make test-services), where LIKE, LOWER(), NULL ordering and NUL characters differ."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import LiveStream
from streams.models import MirroredStream, WorkerRun
from streams.workspace import mirror
from tests.test_stream_search import ids, names, sampler_ran

pytestmark = pytest.mark.django_db

T0 = timezone.now() - timedelta(hours=1)


def put(
    prefix: str, name: str | None, status: str = "idle", created: datetime | None = T0, **metadata: str
) -> str:
    """A stream in the mirror, its id `prefix` padded with zeros to 32 hex digits."""
    stream_id = prefix.ljust(32, "0")
    if name is not None:
        metadata["livestream_name"] = name
    stream = LiveStream(stream_id, status=status, created_at=created, metadata=metadata)
    mirror.observe(stream, timezone.now())
    return stream_id


@pytest.fixture
def synced(emulator: EmulatorControl) -> None:
    """The mirror counts as synced (a complete read was recorded) and the sampler is current."""
    now = timezone.now()
    WorkerRun.objects.update_or_create(
        job="reconcile", defaults={"started_at": now, "finished_at": now, "ok_at": now}
    )
    sampler_ran()


def found(client: Client, **query: str) -> list[str]:
    response = client.get("/streams/", query)
    assert response.status_code == 200
    return names(response.content.decode())


def test_percent_underscore_and_backslash_in_a_search_match_only_themselves(
    admin_client: Client, synced: None
) -> None:
    for n, name in enumerate(["100% live", "100 x live", "a_b", "axb", "back\\slash", "backxslash"]):
        put(f"a{n}", name)
    assert found(admin_client, q="100%") == ["100% live"]
    assert found(admin_client, q="%") == ["100% live"]
    assert found(admin_client, q="a_b") == ["a_b"]
    assert found(admin_client, q="_") == ["a_b"]
    assert found(admin_client, q="back\\") == ["back\\slash"]


def test_a_search_ignores_case_beyond_ascii(admin_client: Client, synced: None) -> None:
    put("b1", "Émission du soir")
    put("b2", "émission du matin")
    put("b3", "Straße")
    put("b4", "Other")
    assert set(found(admin_client, q="É")) == {"Émission du soir", "émission du matin"}
    assert set(found(admin_client, q="ÉMISSION")) == {"Émission du soir", "émission du matin"}
    assert found(admin_client, q="ß") == ["Straße"]
    assert found(admin_client, q="STRAẞE") == ["Straße"]  # the capital sharp s lowercases to ß


def test_the_name_sort_ignores_case_beyond_ascii_too(admin_client: Client, synced: None) -> None:
    # SQLite's LOWER() folds ASCII only: "Éa" and "éc" were sorted apart, with "Ñb" between them.
    for n, name in enumerate(["Ñb", "éc", "Éa", "apple", "Zed"]):
        put(f"c{n}", name)
    a_to_z = found(admin_client, sort="name", pin="off")
    # Where accented letters go depends on the database's collation; their order among themselves does not.
    assert [name for name in a_to_z if name[0] in "ÉéÑ"] == ["Éa", "éc", "Ñb"]
    assert a_to_z.index("apple") < a_to_z.index("Zed")
    z_to_a = found(admin_client, sort="-name", pin="off")
    assert z_to_a == list(reversed(a_to_z))


def test_a_nul_in_the_search_is_dropped_before_it_reaches_the_database(
    admin_client: Client, synced: None
) -> None:
    # PostgreSQL refuses a NUL in a text parameter (a 500); SQLite compared with it and matched nothing.
    put("d1", "Keynote")
    put("d2", "Workshop")
    sent: list[object] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.extend(params or ())
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        html = admin_client.get("/streams/?q=%00").content.decode()
    assert sent  # the page was read
    assert not any(isinstance(param, str) and "\x00" in param for param in sent)
    assert "\x00" not in html
    assert len(ids(html)) == 2
    assert '<span id="stream-count">2 streams</span>' in html  # no search at all: not "2 matches"
    assert found(admin_client, q="Key\x00note") == ["Keynote"]


def test_a_blank_search_is_no_search(admin_client: Client, synced: None) -> None:
    put("e1", "One")
    put("e2", "Two")
    html = admin_client.get("/streams/", {"q": " \t  "}).content.decode()
    assert len(ids(html)) == 2
    assert '<span id="stream-count">2 streams</span>' in html
    response = admin_client.get(
        "/streams/", {"q": "   "}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="stream-table"
    )
    assert response["HX-Push-Url"] == "/streams/?sort=-created&page=1&size=10"


def test_an_ids_beginning_that_is_also_in_a_name_finds_both_and_nothing_by_chance(
    admin_client: Client, synced: None
) -> None:
    by_id = put("3f9a1b", "Studio")
    by_name = put("77", "Room 3F9A")
    by_value = put("9", "Other", note="cue sheet 3f9a")  # a metadata value matches anywhere in it
    put("003f9a", "Elsewhere")  # 3f9a inside its id, not at its beginning: no match
    for q in ("3f9a", "3F9A", " 3f9a "):
        assert set(ids(admin_client.get("/streams/", {"q": q}).content.decode())) == {
            by_id,
            by_name,
            by_value,
        }


def test_live_streams_with_0_viewers_come_before_those_not_counted_yet_on_every_database(
    admin_client: Client, synced: None
) -> None:
    # NULL sorts last descending in SQLite but first in PostgreSQL unless the order says where it goes.
    put("f1", "live, not counted", status="active")
    zero = put("f2", "live, 0", status="active")
    five = put("f3", "live, 5", status="active")
    put("f4", "idle, newer", created=T0 + timedelta(minutes=5))
    put("f5", "idle, no creation time", created=None)
    mirror.record_viewers({zero: 0, five: 5}, timezone.now())
    assert found(admin_client, sort="viewers") == [
        "live, 5",
        "live, 0",
        "live, not counted",
        "idle, newer",
        "idle, no creation time",
    ]
    # Unpinned, a live stream not counted yet is among the others, by creation time.
    assert found(admin_client, sort="viewers", pin="off") == [
        "live, 5",
        "live, 0",
        "idle, newer",
        "live, not counted",
        "idle, no creation time",
    ]
    assert found(admin_client, sort="created", pin="off")[-1] == "idle, no creation time"
    assert found(admin_client, sort="-created", pin="off")[-1] == "idle, no creation time"


@pytest.mark.parametrize("sort", ["-created", "created", "name", "-name", "viewers"])
@pytest.mark.parametrize("pin", ["on", "off"])
def test_paging_is_total_through_ties_in_case_nulls_and_viewers(
    admin_client: Client, synced: None, sort: str, pin: str
) -> None:
    # 27 streams: names equal but for case (accents included), shared or missing creation times,
    # live ones with equal, 0 or no viewer counts, and stale counts on streams no longer live.
    spellings = ["Émission", "émission", "ÉMISSION"]
    made = []
    for n in range(27):
        status = "active" if n % 3 == 0 else "idle"
        created = None if n % 5 == 0 else T0 + timedelta(minutes=n % 2)
        made.append(put(f"{n:02x}", spellings[n % 3], status=status, created=created))
    mirror.record_viewers(
        {stream_id: (n // 3) % 2 for n, stream_id in enumerate(made) if n % 9}, timezone.now()
    )
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        html = admin_client.get(f"/streams/?sort={sort}&pin={pin}&page={page}&size=10").content.decode()
        seen += ids(html)
    assert len(seen) == 27
    assert sorted(seen) == sorted(made)


def test_values_the_list_does_not_know_are_said_and_the_search_is_kept(
    admin_client: Client, synced: None
) -> None:
    put("c7", "Hall A")
    put("c8", "Hall B", status="active")
    response = admin_client.get("/streams/?q=hall&status=<b>offline</b>&sort=sideways&page=abc&size=7")
    html = response.content.decode()
    assert response.status_code == 200
    assert len(ids(html)) == 2  # every status, newest first, page 1, 10 a page
    notice = html[html.index('<div id="list-ignored">') :].split("</div>", 1)[0]
    assert "so it was left out" in notice
    assert "status “&lt;b&gt;offline&lt;/b&gt;”" in notice
    assert "sort “sideways”" in notice
    assert "page “abc”" in notice
    assert "rows per page “7”" in notice
    assert "<b>offline" not in html
    assert 'name="q" value="hall"' in html  # what was typed is kept
    assert "2 matches among 2 streams" in html
    # Values it knows say nothing.
    plain = admin_client.get("/streams/?q=hall&status=live&sort=name&page=1&size=25&pin=off").content.decode()
    assert '<div id="list-ignored"></div>' in plain
    assert '<div id="list-ignored"></div>' in admin_client.get("/streams/?q=&status=").content.decode()
    # Once the form changes the list in place, the address is the form's: the note goes.
    swapped = admin_client.get(
        "/streams/?page=1&q=hall&status=&sort=-created&size=10",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="stream-table",
    ).content.decode()
    assert '<div id="list-ignored" hx-swap-oob="true"></div>' in swapped


def test_a_name_is_found_as_typed_however_its_letters_and_spaces_are_encoded(
    admin_client: Client, synced: None
) -> None:
    put("c1", "Cafe\u0301 concert")  # e and a combining accent, as some systems send it
    put("c2", "Main\u00a0 stage")  # a non-breaking space and a space
    put("c3", "ＬＩＶＥ ｆｉｎａｌ")  # full-width letters
    put("c4", "Café")  # composed
    put("c5", "Other", note="Backstage\ncam")  # a line break inside a metadata value
    assert set(found(admin_client, q="café")) == {"Cafe\u0301 concert", "Café"}
    assert set(found(admin_client, q="cafe\u0301")) == {"Cafe\u0301 concert", "Café"}
    assert found(admin_client, q="main stage") == ["Main\u00a0 stage"]
    assert found(admin_client, q="live final") == ["ＬＩＶＥ ｆｉｎａｌ"]
    assert found(admin_client, q="backstage cam") == ["Other"]
    assert found(admin_client, q="ｃ３") == ["ＬＩＶＥ ｆｉｎａｌ"]  # full-width hex: the id's beginning


def test_the_migration_folds_the_search_text_of_rows_written_before(synced: None) -> None:
    from django.apps import apps

    migration = importlib.import_module("streams.migrations.0010_search_text_folded")
    stream_id = put("d1", "Cafe\u0301\u00a0live", note="Gate  B")
    MirroredStream.objects.filter(stream_id=stream_id).update(search_text="old text")

    migration.fold_search_text(apps, None)

    row = MirroredStream.objects.get(stream_id=stream_id)
    assert row.search_text == f"café live\n{stream_id}\ngate b\ncafé live"
