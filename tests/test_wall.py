"""The control wall (/wall/): which streams it shows, in which order (problems first), what a tile says,
and its 1 s poll, which reads the console's memory only and answers with the poller alone while nothing
it shows has changed. Streams come from the emulator, into the mirror the way the worker puts them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import MirroredStream, Readiness, ViewerSample, WorkerRun
from streams.views import wall
from streams.workspace import mirror

pytestmark = pytest.mark.django_db

TILE = re.compile(r'<li class="tile[^"]*" id="tile-([0-9a-f]{32})"')
POLLER = re.compile(r'id="wall-poller" data-poll hx-get="([^"]+)"')
HTMX = {"HTTP_HX_REQUEST": "true"}


def worker_ran() -> None:
    """The worker has walked the workspace and counted viewers just now: the mirror is synced and its
    numbers current (what freshness.pulse reads)."""
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def stream(
    emulator: EmulatorControl, name: str, status: str = "active", views: int = 0, **fields: Any
) -> str:
    """A stream in the emulator, observed into the mirror, with its viewer count sampled when live."""
    stream_id: str = emulator.create_stream(
        status=status, views=views, metadata={"livestream_name": name}, **fields
    )["streamId"]
    mirror.observe(get_client().get_stream(stream_id), timezone.now())
    if status == "active":
        mirror.record_viewers({stream_id: views}, timezone.now())
    return stream_id


def lights(stream_id: str, *, playable: str = "on", encoder_since: float = 10.0, reason: str = "") -> None:
    """The readiness job's verdict (another part of the console writes these rows)."""
    at = timezone.now() - timedelta(seconds=encoder_since)
    Readiness.objects.update_or_create(
        stream_id=stream_id,
        defaults={
            "encoder": "on",
            "encoder_changed_at": at,
            "live": "on" if MirroredStream.objects.get(stream_id=stream_id).status == "active" else "off",
            "live_changed_at": at,
            "playable": playable,
            "playable_changed_at": at,
            "playable_reason": reason,
        },
    )


def tile_ids(html: str) -> list[str]:
    return TILE.findall(html)


def poll_url(html: str) -> str:
    match = POLLER.search(html)
    assert match is not None, html
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def festival(emulator: EmulatorControl) -> dict[str, str]:
    """One stream of each kind the wall tells apart, plus some it must not show."""
    ids = {
        "quiet": stream(emulator, "Quiet room", views=10),
        "keynote": stream(emulator, "Keynote", views=500),
        "dropped": stream(emulator, "Dropped stage", views=40),
        "stuck": stream(emulator, "Stuck encoder", status="preparing"),
        "fresh": stream(emulator, "Just connecting", status="preparing"),
        "unplayable": stream(emulator, "No segments", views=900),
        "idle": stream(emulator, "Idle stream", status="idle"),
        "disabled": stream(emulator, "Disabled stream", status="disabled"),
        "deleted": stream(emulator, "Deleted stream", views=3),
    }
    for key in ("quiet", "keynote", "dropped", "fresh"):
        lights(ids[key])
    lights(ids["stuck"], encoder_since=5 * 60)
    lights(ids["unplayable"], playable="off", reason="no segments yet")
    emulator.disconnect(ids["dropped"])
    mirror.observe(get_client().get_stream(ids["dropped"]), timezone.now(), encoder="disconnected")
    mirror.forget(ids["deleted"], timezone.now())
    worker_ran()
    return ids


def test_the_wall_shows_every_preparing_and_live_stream_and_nothing_else(
    producer_client: Client, festival: dict[str, str]
) -> None:
    shown = set(tile_ids(producer_client.get("/wall/").content.decode()))
    assert shown == {festival[key] for key in ("quiet", "keynote", "dropped", "stuck", "fresh", "unplayable")}


def test_problems_come_first_then_live_streams_by_audience(
    producer_client: Client, festival: dict[str, str]
) -> None:
    html = producer_client.get("/wall/").content.decode()
    order = ["dropped", "stuck", "unplayable", "keynote", "quiet", "fresh"]
    assert tile_ids(html) == [festival[key] for key in order]
    # The biggest audience does not lift a failing playable check above the healthy streams' problems.
    assert "Playable check failing" in html
    assert "Preparing for too long" in html


def test_a_dropped_stream_shows_a_countdown_to_the_end_of_its_reconnect_window(
    producer_client: Client, festival: dict[str, str]
) -> None:
    html = producer_client.get("/wall/").content.decode()
    row = MirroredStream.objects.get(stream_id=festival["dropped"])
    assert row.disconnected_at is not None
    window = row.settings["reconnect_window"]
    deadline = timezone.localtime(row.disconnected_at + timedelta(seconds=window)).isoformat()
    assert html.count(f'data-deadline="{deadline}"') == 2  # on its tile and in the alert banner
    assert 'role="alert"' in html
    assert "Dropped stage dropped" in html
    remaining = re.search(rf'data-deadline="{re.escape(deadline)}" data-now="[^"]+">(\d+):(\d\d)<', html)
    assert remaining is not None
    seconds = int(remaining.group(1)) * 60 + int(remaining.group(2))
    assert window - 5 <= seconds <= window


def test_an_encoder_leaving_a_preparing_stream_is_no_drop_as_on_the_streams_page(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    """Only a live stream can drop (streams/workspace/alerts.py): FastPix has no broadcast to end."""
    stream_id = stream(emulator, "Rehearsal", status="preparing")
    lights(stream_id)
    mirror.observe(get_client().get_stream(stream_id), timezone.now(), encoder="disconnected")
    assert MirroredStream.objects.get(stream_id=stream_id).disconnected_at is not None
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    assert tile_ids(html) == [stream_id]
    assert "dropped" not in html.lower()
    assert "data-deadline" not in html
    assert 'id="wall-alert"' not in html


def test_a_drop_past_its_window_says_when_it_ran_out_and_the_poll_turns_then(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = stream(emulator, "Late stage", views=7)
    lights(stream_id)
    emulator.disconnect(stream_id)
    mirror.observe(get_client().get_stream(stream_id), timezone.now(), encoder="disconnected")
    row = MirroredStream.objects.get(stream_id=stream_id)
    window = row.settings["reconnect_window"]
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    assert "reconnect within" in html
    # The token knows when the window runs out: a poll after that redraws the wall with nothing else changed.
    url = poll_url(html)
    turns_at = int(url.rsplit("-", 1)[1])
    assert turns_at == int(-(-(row.disconnected_at + timedelta(seconds=window)).timestamp() // 1))
    MirroredStream.objects.filter(stream_id=stream_id).update(
        disconnected_at=timezone.now() - timedelta(seconds=window + 5)
    )
    stale = url.replace(f"-{turns_at}", f"-{int(timezone.now().timestamp()) - 1}")
    html = producer_client.get(stale, **HTMX).content.decode()
    assert tile_ids(html) == [stream_id]
    assert html.count("the reconnect window ran out at") == 2  # its tile and the banner
    assert "reconnect within" not in html
    assert 'role="timer"' not in html  # no countdown standing at 0:00


def test_a_tile_says_its_lights_viewers_and_how_long_it_has_been_live_in_words(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = stream(emulator, "Main stage", views=1234)
    lights(stream_id, playable="private")
    MirroredStream.objects.filter(stream_id=stream_id).update(
        live_since=timezone.now() - timedelta(minutes=75)
    )
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    assert 'class="tile-number">1234<' in html
    assert re.search(r'Encoder:</span>\s*<strong class="light-word">Connected', html)
    assert re.search(r'Playable:</span>\s*<strong class="light-word">Private', html)
    assert "Live for <strong>" in html
    assert ">1 h 15 min<" in html


def test_a_stream_without_readiness_yet_says_unknown_not_green(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream(emulator, "Brand new", views=5)
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    assert re.search(
        r'Playable:</span>\s*<strong class="light-word">Unknown</strong><span class="light-reason"> — not checked yet',
        html,
    )
    assert "Playable check failing" in html


def test_the_sparkline_draws_at_most_60_points_of_the_last_ten_minutes(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = stream(emulator, "Busy", views=1)
    lights(stream_id)
    ViewerSample.objects.filter(stream_id=stream_id).delete()
    now = timezone.now()
    old = [
        ViewerSample(stream_id=stream_id, at=now - timedelta(minutes=30, seconds=i), views=99999)
        for i in range(5)
    ]
    recent = [
        ViewerSample(stream_id=stream_id, at=now - timedelta(seconds=5 * i), views=100 + i)
        for i in range(119)
    ]
    ViewerSample.objects.bulk_create(old + recent)
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    points = re.search(r'<polyline class="spark-line" points="([^"]+)"', html)
    assert points is not None
    assert 2 <= len(points.group(1).split()) <= wall.SPARK_POINTS
    assert "between 100 and 218" in html  # the half-hour-old 99999 is outside the window


def test_neither_the_page_nor_its_refresh_asks_fastpix_anything(
    producer_client: Client, emulator: EmulatorControl, festival: dict[str, str]
) -> None:
    emulator.clear_requests()
    page = producer_client.get("/wall/")
    url = poll_url(page.content.decode())
    mirror.record_viewers({festival["keynote"]: 501}, timezone.now())  # changed: a full refresh
    changed = producer_client.get(url, **HTMX)
    unchanged = producer_client.get(poll_url(changed.content.decode()), **HTMX)
    assert (page.status_code, changed.status_code, unchanged.status_code) == (200, 200, 200)
    assert emulator.requests() == []


def test_an_unchanged_refresh_is_answered_with_the_poller_alone(
    producer_client: Client, festival: dict[str, str]
) -> None:
    url = poll_url(producer_client.get("/wall/").content.decode())
    unchanged = producer_client.get(url, **HTMX).content.decode()
    assert unchanged.strip().startswith('<div id="wall-poller"')
    assert unchanged.count("<div") == 1
    assert poll_url(unchanged) == url

    mirror.record_viewers({festival["quiet"]: 7000}, timezone.now())
    changed = producer_client.get(url, **HTMX).content.decode()
    assert '<div id="wall-body"' in changed
    assert 'hx-swap-oob="morph"' in changed
    assert tile_ids(changed)[3] == festival["quiet"]  # now the biggest healthy audience
    assert poll_url(changed) != url


def test_a_stream_preparing_past_the_limit_moves_up_without_any_other_change(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    live = stream(emulator, "On air", views=3)
    lights(live)
    waiting = stream(emulator, "Warming up", status="preparing")
    lights(waiting, encoder_since=wall.PREPARING_TOO_LONG.total_seconds() - 2)
    worker_ran()
    url = poll_url(producer_client.get("/wall/").content.decode())
    assert producer_client.get(url, **HTMX).content.decode().count("<li") == 0  # nothing changed yet
    # Two seconds on, the line is crossed: the same version, but the token knew when it would turn.
    token = url.split("v=", 1)[1]
    turns_at = int(token.rsplit("-", 1)[1])
    assert 0 < turns_at - timezone.now().timestamp() <= 3
    Readiness.objects.filter(stream_id=waiting).update(
        encoder_changed_at=timezone.now() - wall.PREPARING_TOO_LONG - timedelta(seconds=1)
    )
    stale = url.replace(f"-{turns_at}", f"-{turns_at - 10}")
    html = producer_client.get(stale, **HTMX).content.decode()
    assert tile_ids(html) == [waiting, live]
    assert "Preparing for too long" in html


def test_a_reviewer_sees_the_wall_but_no_finish(reviewer_client: Client, festival: dict[str, str]) -> None:
    response = reviewer_client.get("/wall/")
    assert response.status_code == 200
    html = response.content.decode()
    assert len(tile_ids(html)) == 6
    assert "data-wall-finish" not in html
    assert "/finish/" not in html


def test_finish_is_offered_on_live_tiles_only_through_the_confirmation_dialog(
    producer_client: Client, festival: dict[str, str]
) -> None:
    html = producer_client.get("/wall/").content.decode()
    finishes = re.findall(
        r'href="/streams/([0-9a-f]{32})/finish/\?from=wall" aria-haspopup="dialog" data-dialog', html
    )
    live = {festival[key] for key in ("quiet", "keynote", "dropped", "unplayable")}
    assert set(finishes) == live
    assert len(finishes) == len(live)


def test_the_menu_links_the_wall_for_everyone_who_may_view_streams(
    reviewer_client: Client, festival: dict[str, str]
) -> None:
    html = reviewer_client.get("/streams/").content.decode()
    assert '<a href="/wall/">Wall</a>' in html


def test_an_empty_wall_says_so(producer_client: Client, emulator: EmulatorControl) -> None:
    stream(emulator, "Idle", status="idle")
    worker_ran()
    html = producer_client.get("/wall/").content.decode()
    assert "Nothing live or preparing" in html
    assert tile_ids(html) == []


def test_finish_from_the_wall_comes_back_to_the_wall_and_answers_with_the_message_alone(
    producer_client: Client, festival: dict[str, str], emulator: EmulatorControl
) -> None:
    keynote = festival["keynote"]
    confirm = producer_client.get(f"/streams/{keynote}/finish/?from=wall").content.decode()
    assert '<input type="hidden" name="from" value="wall">' in confirm
    assert '<a href="/wall/">← Back</a>' in confirm
    answer = producer_client.post(f"/streams/{keynote}/finish/", {"from": "wall"}, HTTP_HX_REQUEST="true")
    html = answer.content.decode()
    assert answer.status_code == 200
    assert 'id="messages" hx-swap-oob="innerHTML"' in html
    assert "Finished the broadcast" in html
    assert 'id="stream-status"' not in html  # the stream page's parts: the wall has none of them
    assert emulator.stream_state(keynote)["stream"]["status"] == "idle"
    quiet = festival["quiet"]
    plain = producer_client.post(f"/streams/{quiet}/finish/", {"from": "wall"})
    assert (plain.status_code, plain["Location"]) == (302, "/wall/")
