"""The stream list from the console's mirror: search, status filter, sort, pinning, paging, and its poll,
none of which asks FastPix anything. Before the first complete read of the workspace, the list is
FastPix's own paging and says so."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import MirroredStream, WorkerRun
from streams.workspace import mirror

pytestmark = pytest.mark.django_db

ROW_ID = re.compile(r'<tr id="stream-([0-9a-f]{32})"')
ROW_NAME = re.compile(r'class="stream-name" href="/streams/[0-9a-f]{32}/">([^<]*)</a>')


def mirror_workspace() -> None:
    """What the worker's reconciler does, by hand: read FastPix's whole list, observe every stream, and
    record the complete walk (which is what makes the mirror "synced")."""
    client = get_client()
    page = 1
    while True:
        listed = client.list_streams(page=page, limit=50)
        for stream in listed.items:
            mirror.observe(stream, timezone.now())
        if not listed.has_next:
            break
        page += 1
    now = timezone.now()
    WorkerRun.objects.update_or_create(
        job="reconcile", defaults={"started_at": now, "finished_at": now, "ok_at": now}
    )


def sampler_ran(ago: float = 0.0) -> None:
    at = timezone.now() - timedelta(seconds=ago)
    WorkerRun.objects.update_or_create(
        job="sample", defaults={"started_at": at, "finished_at": at, "ok_at": at}
    )


def named(emulator: EmulatorControl, name: str, **fields: Any) -> str:
    stream_id: str = emulator.create_stream(metadata={"livestream_name": name}, **fields)["streamId"]
    return stream_id


def names(html: str) -> list[str]:
    return ROW_NAME.findall(html)


def ids(html: str) -> list[str]:
    return ROW_ID.findall(html)


def poll_url(html: str) -> str:
    match = re.search(r'id="list-poller" data-poll hx-get="([^"]+)"', html)
    assert match is not None, html
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def festival(emulator: EmulatorControl) -> dict[str, str]:
    """A small workspace: a few names, statuses and metadata values, mirrored and synced."""
    streams = {
        "keynote": named(emulator, "Keynote — Hall A", status="active", views=120),
        "workshop": named(emulator, "Workshop: htmx", status="idle"),
        "panel": named(emulator, "Evening panel", status="preparing"),
        "archive": named(emulator, "Archive feed", status="disabled"),
    }
    streams["tagged"] = emulator.create_stream(
        metadata={"livestream_name": "Side stage", "room": "Hall B", "sponsor": "ACME Broadcasting"}
    )["streamId"]
    mirror_workspace()
    sampler_ran()
    return streams


def test_a_search_matches_part_of_a_name_whatever_its_case(
    admin_client: Client, festival: dict[str, str]
) -> None:
    html = admin_client.get("/streams/?q=KEYNOTE").content.decode()
    assert names(html) == ["Keynote — Hall A"]
    assert names(admin_client.get("/streams/?q=shop: ht").content.decode()) == ["Workshop: htmx"]


def test_a_search_matches_the_beginning_of_an_id_but_not_a_chance_run_inside_one(
    admin_client: Client, festival: dict[str, str]
) -> None:
    stream_id = festival["workshop"]
    assert ids(admin_client.get(f"/streams/?q={stream_id[:6]}").content.decode()) == [stream_id]
    assert ids(admin_client.get(f"/streams/?q={stream_id.upper()}").content.decode()) == [stream_id]
    html = admin_client.get(f"/streams/?q={stream_id[10:18]}").content.decode()
    assert ids(html) == []
    assert f"No stream matches “{stream_id[10:18]}”" in html


def test_a_search_matches_any_metadata_value(admin_client: Client, festival: dict[str, str]) -> None:
    assert ids(admin_client.get("/streams/?q=acme").content.decode()) == [festival["tagged"]]
    # "Hall" is in one name and in another stream's room: both match.
    assert set(ids(admin_client.get("/streams/?q=hall").content.decode())) == {
        festival["keynote"],
        festival["tagged"],
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [("live", "keynote"), ("preparing", "panel"), ("disabled", "archive")],
)
def test_the_status_filter_shows_only_streams_in_that_status(
    admin_client: Client, festival: dict[str, str], status: str, expected: str
) -> None:
    html = admin_client.get(f"/streams/?status={status}").content.decode()
    assert ids(html) == [festival[expected]]
    assert f'<option value="{status}" selected>' in html
    assert "1 match among 5 streams" in html


def test_idle_and_every_status(admin_client: Client, festival: dict[str, str]) -> None:
    idle = set(ids(admin_client.get("/streams/?status=idle").content.decode()))
    assert idle == {festival["workshop"], festival["tagged"]}
    assert len(ids(admin_client.get("/streams/?status=").content.decode())) == 5
    assert len(ids(admin_client.get("/streams/?status=nonsense").content.decode())) == 5


def test_a_search_and_a_filter_combine(admin_client: Client, festival: dict[str, str]) -> None:
    html = admin_client.get("/streams/?q=hall&status=live").content.decode()
    assert ids(html) == [festival["keynote"]]
    html = admin_client.get("/streams/?q=workshop&status=live").content.decode()
    assert "No stream matches “workshop” among live streams" in html
    assert 'href="/streams/?status=live&amp;sort=-created&amp;page=1&amp;size=10">Clear the search' in html
    assert 'href="/streams/?q=workshop&amp;sort=-created&amp;page=1&amp;size=10">Show every status' in html


def test_a_search_with_no_match_says_so_with_a_link_that_clears_it(
    admin_client: Client, festival: dict[str, str]
) -> None:
    html = admin_client.get("/streams/?q=<b>nothing</b>").content.decode()
    assert "No stream matches “&lt;b&gt;nothing&lt;/b&gt;”" in html
    assert "<b>nothing" not in html
    assert '<a href="/streams/?sort=-created&amp;page=1&amp;size=10">Clear the search</a>' in html
    assert "No streams yet" not in html


def test_a_status_with_no_stream_says_so(admin_client: Client, emulator: EmulatorControl) -> None:
    named(emulator, "Quiet", status="idle")
    mirror_workspace()
    html = admin_client.get("/streams/?status=live").content.decode()
    assert "No stream is live right now" in html
    assert "Show every status" in html


def test_an_empty_workspace_still_says_it_has_no_streams(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    mirror_workspace()
    html = admin_client.get("/streams/?q=anything").content.decode()
    assert "No streams yet" in html


def test_deleted_streams_never_show(admin_client: Client, festival: dict[str, str]) -> None:
    mirror.forget(festival["workshop"], timezone.now())
    html = admin_client.get("/streams/").content.decode()
    assert festival["workshop"] not in html
    assert "4 streams" in html
    assert festival["workshop"] not in admin_client.get("/streams/?q=workshop").content.decode()
    assert festival["workshop"] not in admin_client.get("/streams/?status=idle").content.decode()


def test_live_streams_are_pinned_first_unless_the_box_is_unticked(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    base = timezone.now() - timedelta(hours=1)
    live = named(emulator, "Oldest, live", status="active", createdAt=base.isoformat())
    for n in range(3):
        named(emulator, f"Newer {n}", createdAt=(base + timedelta(minutes=n + 1)).isoformat())
    mirror_workspace()
    assert ids(admin_client.get("/streams/").content.decode())[0] == live
    unpinned = admin_client.get("/streams/?pin=off").content.decode()
    assert ids(unpinned)[-1] == live
    # The form sends pin=off, then pin=on when the box is ticked: the last one counts.
    assert ids(admin_client.get("/streams/?pin=off&pin=on").content.decode())[0] == live
    assert 'name="pin" value="on" checked' in admin_client.get("/streams/").content.decode()
    assert 'name="pin" value="on">' in unpinned


def test_each_sort_orders_the_rows_as_it_says(admin_client: Client, emulator: EmulatorControl) -> None:
    base = timezone.now() - timedelta(hours=1)
    made = {
        name: named(emulator, name, createdAt=(base + timedelta(minutes=n)).isoformat(), **extra)
        for n, (name, extra) in enumerate(
            [
                ("banana", {}),
                ("Apple", {"status": "active", "views": 5}),
                ("cherry", {"status": "active", "views": 50}),
                ("date", {}),
            ]
        )
    }
    mirror_workspace()
    mirror.record_viewers({made["Apple"]: 5, made["cherry"]: 50}, timezone.now())
    sampler_ran()

    def order(sort: str) -> list[str]:
        return names(admin_client.get(f"/streams/?sort={sort}&pin=off").content.decode())

    assert order("name") == ["Apple", "banana", "cherry", "date"]  # whatever the case
    assert order("-name") == ["date", "cherry", "banana", "Apple"]
    assert order("created") == ["banana", "Apple", "cherry", "date"]
    assert order("-created") == ["date", "cherry", "Apple", "banana"]
    assert order("viewers") == ["cherry", "Apple", "date", "banana"]  # then the rest, newest first
    # FastPix paging's `order` still means what it meant.
    assert names(admin_client.get("/streams/?order=oldest&pin=off").content.decode())[0] == "banana"


@pytest.mark.parametrize("sort", ["-created", "created", "name", "-name", "viewers"])
@pytest.mark.parametrize("pin", ["on", "off"])
def test_paging_through_ties_shows_every_stream_exactly_once(
    admin_client: Client, emulator: EmulatorControl, sort: str, pin: str
) -> None:
    # 23 streams sharing two names and three creation times: only the tie-breaker tells them apart.
    moments = [(timezone.now() - timedelta(minutes=m)).isoformat() for m in range(3)]
    made = [
        named(
            emulator,
            f"Twin {n % 2}",
            createdAt=moments[n % 3],
            **({"status": "active"} if n % 4 == 0 else {}),
        )
        for n in range(23)
    ]
    mirror_workspace()
    seen: list[str] = []
    for page in (1, 2, 3):
        seen += ids(admin_client.get(f"/streams/?sort={sort}&pin={pin}&page={page}").content.decode())
    assert len(seen) == 23
    assert sorted(seen) == sorted(made)


def test_the_page_and_its_polls_ask_fastpix_nothing(
    admin_client: Client, emulator: EmulatorControl, festival: dict[str, str]
) -> None:
    mirror.record_viewers({festival["keynote"]: 120}, timezone.now())
    emulator.clear_requests()
    html = admin_client.get("/streams/?q=hall&sort=viewers").content.decode()
    assert f'id="viewers-{festival["keynote"]}" class="num">120' in html.replace("\n", "")
    url = poll_url(html)
    for _ in range(3):
        assert admin_client.get(url).status_code == 200
    assert admin_client.get(url.replace("&v=", "&was=")).status_code == 200  # a poll that renders
    assert emulator.requests() == []


def test_a_poll_with_nothing_changed_answers_without_the_table(
    admin_client: Client, festival: dict[str, str]
) -> None:
    page = admin_client.get("/streams/?status=live").content.decode()
    url = poll_url(page)
    assert f"&v={mirror.version()}" in url
    html = admin_client.get(url).content.decode()
    assert "stream-table" not in html
    assert "<tr" not in html
    assert 'id="list-poller"' in html
    assert poll_url(html) == url  # same search, same version
    assert 'id="list-notice" class="list-notice" hx-swap-oob="true"' in html
    assert len(html) < 1500


def test_a_status_change_in_the_mirror_reaches_the_next_poll(
    producer_client: Client, festival: dict[str, str]
) -> None:
    stream_id = festival["workshop"]
    url = poll_url(producer_client.get("/streams/").content.decode())
    stream = get_client().get_stream(stream_id)
    mirror.observe(dataclasses.replace(stream, status="active"), timezone.now())
    html = producer_client.get(url).content.decode().replace("\n", "")
    assert '<div id="stream-table" hx-swap-oob="morph">' in html
    row = re.search(rf'<tr id="stream-{stream_id}".*?</tr>', html)
    assert row is not None
    assert '<span class="badge badge-active">Live</span>' in row.group(0)
    assert f'href="/streams/{stream_id}/finish/?from=list"' in row.group(0)
    assert '<span id="stream-count" hx-swap-oob="true">5 streams</span>' in html
    assert f"&v={mirror.version()}" in poll_url(html)  # the poll now carries the new version


def test_the_poll_keeps_the_search_it_was_made_for(admin_client: Client, festival: dict[str, str]) -> None:
    url = poll_url(
        admin_client.get("/streams/?q=hall&status=live&sort=name&pin=off&size=25").content.decode()
    )
    assert url.startswith("/streams/live/?q=hall&status=live&sort=name&page=1&size=25&pin=off&v=")
    mirror.bump()
    html = admin_client.get(url).content.decode()
    assert ids(html) == [festival["keynote"]]
    assert "1 match among 5 streams" in html


def test_an_htmx_search_swaps_the_table_and_the_poll_count_and_address_follow(
    admin_client: Client, festival: dict[str, str]
) -> None:
    response = admin_client.get(
        "/streams/?page=1&q=Keynote&status=&sort=-created&size=10&pin=off&pin=on",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="stream-table",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="stream-table">')
    assert "<html" not in html
    assert 'id="list-form"' not in html  # the search box is left alone: focus and typed text stay
    assert ids(html) == [festival["keynote"]]
    assert 'id="list-poller" data-poll hx-get="/streams/live/?q=Keynote&amp;sort=-created' in html
    assert '<span id="stream-count" hx-swap-oob="true">1 match among 5 streams</span>' in html
    assert response["HX-Push-Url"] == "/streams/?q=Keynote&sort=-created&page=1&size=10"


def test_without_javascript_the_search_is_a_plain_form_and_every_choice_is_in_the_address(
    admin_client: Client, festival: dict[str, str]
) -> None:
    html = admin_client.get("/streams/?q=hall&status=live&sort=name&size=25").content.decode()
    form = re.search(r'<form id="list-form"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None
    assert 'method="get" action="/streams/"' in form.group(0)
    assert '<button type="submit" class="button">Search</button>' in form.group(1)
    assert 'name="q" value="hall"' in form.group(1)
    assert '<option value="live" selected>Live</option>' in form.group(1)
    assert '<option value="name" selected>Name, A to Z</option>' in form.group(1)
    assert '<option value="25" selected>25</option>' in form.group(1)
    assert ids(html) == [festival["keynote"]]


def test_page_links_keep_the_search_and_a_page_past_the_end_says_so(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    for n in range(12):
        named(emulator, f"Match {n:02d}")
    named(emulator, "Other")
    mirror_workspace()
    html = admin_client.get("/streams/?q=match&sort=name").content.decode()
    assert names(html)[0] == "Match 00"
    assert 'href="/streams/?q=match&amp;sort=name&amp;page=2&amp;size=10"' in html
    assert names(admin_client.get("/streams/?q=match&sort=name&page=2").content.decode()) == [
        "Match 10",
        "Match 11",
    ]
    past = admin_client.get("/streams/?q=match&page=5").content.decode()
    assert "Page 5 is past the end: there are 12 matching streams in 2 pages." in past
    assert (
        '<a href="/streams/?q=match&amp;sort=-created&amp;page=1&amp;size=10">Go to the first page</a>'
        in past
    )


def test_the_page_says_how_fresh_the_mirror_is(admin_client: Client, festival: dict[str, str]) -> None:
    earlier = timezone.now() - timedelta(seconds=42)
    WorkerRun.objects.filter(job="reconcile").update(ok_at=earlier)
    html = admin_client.get("/streams/").content.decode()
    assert re.search(r"from the console's own copy, updated 4[23] s ago", html), html
    assert "Live numbers are stale" not in html


def test_while_the_sampler_is_late_the_page_says_live_numbers_are_stale_and_reads_counts_itself(
    admin_client: Client, emulator: EmulatorControl, festival: dict[str, str]
) -> None:
    sampler_ran(ago=120)
    emulator.clear_requests()
    html = admin_client.get("/streams/").content.decode()
    assert "Live numbers are stale: the console's worker last counted viewers 2 min ago" in html
    assert f'id="viewers-{festival["keynote"]}" class="num">120' in html.replace("\n", "")
    paths = [r["path"] for r in emulator.requests()]
    assert paths == [f"/v1/live/streams/{festival['keynote']}/viewer-count"]  # the live row only, no list
    assert "&v=" not in poll_url(html)  # counts may change unseen: every poll renders


def test_before_the_first_complete_read_the_list_is_fastpix_paging_and_says_so(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    named(emulator, "Keynote")
    named(emulator, "Workshop")
    emulator.clear_requests()
    html = admin_client.get("/streams/?q=key&status=live&sort=name").content.decode()
    assert "Search and filters are available once the console has read the whole workspace" in html
    assert "Not applied: the search for “key”, the filter “live”, the order “name, a to z”." in html
    assert names(html) == ["Workshop", "Keynote"]  # FastPix's page, newest first, nothing filtered
    assert re.search(r'<input type="search" id="q" name="q" value="key" disabled', html)
    assert emulator.requests(path_regex=r"^/v1/live/streams$")
    assert "&v=" not in poll_url(html)
    # Plain paging says nothing is missing.
    plain = admin_client.get("/streams/").content.decode()
    assert "Not applied" not in plain
    assert "Search and filters are available once" in plain


def test_a_poll_from_a_page_made_before_the_sync_gets_the_mirror_once_synced(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    named(emulator, "Keynote")
    url = poll_url(admin_client.get("/streams/").content.decode())
    assert url == "/streams/live/?page=1&size=10&order=newest"
    mirror_workspace()
    sampler_ran()
    emulator.clear_requests()
    html = admin_client.get(url).content.decode()
    assert names(html) == ["Keynote"]
    assert "from the console's own copy" in html
    assert emulator.requests() == []


def test_rows_show_the_mirrors_settings(admin_client: Client, emulator: EmulatorControl) -> None:
    named(emulator, "Recorded", maxResolution="720p", enableRecording=True)
    mirror_workspace()
    row = admin_client.get("/streams/").content.decode().replace("\n", "")
    assert re.search(r"<td>720p</td>\s*<td>On</td>", row)
    assert MirroredStream.objects.get().settings["max_resolution"] == "720p"
