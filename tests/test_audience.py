"""The audience from the console's memory: the detail page's summary and chart from viewer samples, its
poll (database only), and each recording's broadcast peak."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import LiveStream, get_client
from streams.models import MirroredStream, WorkerRun
from streams.workspace import history, mirror
from streams.workspace.history import Point

pytestmark = pytest.mark.django_db


def worker_is_current(*jobs: str) -> None:
    """Stand in for the worker: its reconcile and sample runs succeeded just now."""
    now = timezone.now()
    for job in jobs or ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def mirrored(emulator: EmulatorControl, at: datetime | None = None, **fields: Any) -> LiveStream:
    """A stream made in the emulator, read once and applied to the mirror (as the reconciler would)."""
    stream_id = emulator.create_stream(**fields)["streamId"]
    stream = get_client().get_stream(stream_id)
    mirror.observe(stream, at or timezone.now())
    return stream


def record(stream_id: str, start: datetime, counts: list[int], every: float = 5.0) -> None:
    for index, views in enumerate(counts):
        mirror.record_viewers({stream_id: views}, start + timedelta(seconds=every * index))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# ---------------------------------------------------------------- the summary


def test_the_summary_numbers_come_exactly_from_the_samples() -> None:
    start = timezone.now() - timedelta(minutes=2)
    points = [Point(start + timedelta(seconds=5 * i), views) for i, views in enumerate([10, 40, 25, 40, 5])]
    seen = history.summarise(points, live=True, since=start - timedelta(seconds=30))
    assert (seen.current, seen.peak, seen.average, seen.samples) == (5, 40, 24, 5)
    assert seen.peak_at == start + timedelta(seconds=5)  # the first time it reached the peak
    assert seen.since == start - timedelta(seconds=30)


def test_a_broadcast_that_ended_has_no_current_count_and_starts_at_its_first_sample() -> None:
    start = timezone.now() - timedelta(hours=1)
    seen = history.summarise([Point(start, 3), Point(start + timedelta(seconds=5), 7)], live=False)
    assert seen.current is None
    assert (seen.since, seen.until, seen.peak) == (start, start + timedelta(seconds=5), 7)


def test_downsampling_a_long_broadcast_keeps_at_most_300_points_and_the_peak() -> None:
    start = timezone.now() - timedelta(hours=8)
    points = [Point(start + timedelta(seconds=5 * i), (i * 7919) % 1000) for i in range(5760)]
    points[4321] = Point(points[4321].at, 5000)
    drawn = history.downsample(points)
    assert len(drawn) <= 300
    assert max(p.views for p in drawn) == 5000
    assert [p.at for p in drawn] == sorted(p.at for p in drawn)
    assert set(drawn) <= set(points)  # real samples, none invented


def test_the_chart_scales_to_a_round_top_and_draws_every_sample_of_a_short_broadcast() -> None:
    start = timezone.now()
    chart = history.chart([Point(start + timedelta(seconds=5 * i), v) for i, v in enumerate([0, 30, 60, 45])])
    assert chart is not None
    assert chart.points == 4
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100"]
    (segment,) = chart.segments
    first, *_, last = segment.line.split(" ")
    assert first == f"{chart.left:.1f},{chart.bottom:.1f}"  # 0 viewers at the start: the bottom-left corner
    assert float(last.split(",")[0]) == chart.right
    assert len(chart.x_ticks) == 3


def test_the_last_broadcast_is_the_newest_run_of_samples_without_a_long_gap() -> None:
    start = timezone.now() - timedelta(hours=2)
    earlier = [Point(start + timedelta(seconds=5 * i), 100) for i in range(10)]
    later = [Point(start + timedelta(hours=1, seconds=5 * i), 8) for i in range(4)]
    assert history.last_run(earlier + later, history.broadcast_gap()) == later


# ---------------------------------------------------------------- the detail page


def test_the_detail_page_shows_the_live_broadcasts_audience_with_one_fastpix_call(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    since = timezone.now() - timedelta(minutes=3)
    stream = mirrored(emulator, at=since, status="active", views=31, metadata={"livestream_name": "Keynote"})
    record(stream.stream_id, since + timedelta(seconds=10), [12, 48, 31, 30])
    worker_is_current()
    emulator.clear_requests()

    html = producer_client.get(f"/streams/{stream.stream_id}/").content.decode()

    assert [r["path"] for r in emulator.requests()] == [f"/v1/live/streams/{stream.stream_id}"]
    summary = text_of(section(html, "stream-audience"))
    assert "Now 30 viewers" in summary  # the newest sample, not FastPix's 31: one call only
    assert "Peak 48 viewers at" in summary
    assert "Average 30 viewers" in summary
    assert "Live since" in summary
    assert 'class="viewers">30' in html.replace("\n", "")
    assert "Live data is stale" not in html


def test_the_chart_is_an_image_with_an_accessible_name(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    since = timezone.now() - timedelta(minutes=1)
    stream = mirrored(emulator, at=since, status="active")
    record(stream.stream_id, since, [1, 2, 3])
    worker_is_current()
    audience = section(
        producer_client.get(f"/streams/{stream.stream_id}/").content.decode(), "stream-audience"
    )
    svg = re.search(r"<svg[^>]*>", audience)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-labelledby="audience-chart-title"' in svg.group(0)
    assert re.search(
        r'<title id="audience-chart-title">Viewers over time, live since .*: now 3, peak 3 at', audience
    )
    assert "<polyline" in audience
    assert "style=" not in audience  # the CSP forbids inline styles


def test_a_stream_with_no_samples_shows_the_empty_state(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="idle")
    worker_is_current()
    audience = section(
        producer_client.get(f"/streams/{stream.stream_id}/").content.decode(), "stream-audience"
    )
    assert "No audience recorded" in audience
    assert "<svg" not in audience


def test_without_a_working_sampler_viewers_come_from_fastpix_and_the_page_says_live_data_is_stale(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="active", views=214)
    emulator.clear_requests()
    html = producer_client.get(f"/streams/{stream.stream_id}/").content.decode()
    assert 'class="viewers">214' in html.replace("\n", "")
    assert "Live data is stale" in html
    assert len(emulator.requests()) == 2  # the stream, and its viewer count


def test_the_detail_page_applies_its_read_to_the_mirror(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = emulator.create_stream(status="preparing", metadata={"livestream_name": "Fresh"})["streamId"]
    producer_client.get(f"/streams/{stream_id}/")
    row = MirroredStream.objects.get(stream_id=stream_id)
    assert (row.status, row.name) == ("preparing", "Fresh")


def test_a_stream_that_ended_shows_its_last_broadcasts_audience(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    since = timezone.now() - timedelta(minutes=10)
    stream = mirrored(emulator, at=since, status="active")
    record(stream.stream_id, since, [4, 9, 6])
    emulator.disconnect(stream.stream_id, expire=True)
    worker_is_current()
    html = producer_client.get(f"/streams/{stream.stream_id}/").content.decode()
    audience = text_of(section(html, "stream-audience"))
    assert "Audience of the last broadcast" in audience
    assert "Peak 9 viewers" in audience
    assert "Now" not in audience.split("Audience of the last broadcast", 1)[1].split("Peak")[0]


# ---------------------------------------------------------------- the poll


def test_the_poll_reads_only_the_database_and_grows_the_graph(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    since = timezone.now() - timedelta(minutes=1)
    stream = mirrored(emulator, at=since, status="active")
    record(stream.stream_id, since, [5, 6])
    worker_is_current()
    page = producer_client.get(f"/streams/{stream.stream_id}/").content.decode()
    poll_url = re.search(r'id="stream-poller" data-poll hx-get="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    emulator.clear_requests()

    unchanged = producer_client.get(poll_url.replace("&amp;", "&")).content.decode()
    assert unchanged.strip().startswith('<div id="stream-poller"')
    assert "stream-audience" not in unchanged

    mirror.record_viewers({stream.stream_id: 77}, timezone.now())
    changed = producer_client.get(poll_url).content.decode()
    assert emulator.requests() == []
    assert (
        '<section class="card" id="stream-audience" aria-labelledby="audience-heading" hx-swap-oob="morph">'
        in changed
    )
    assert "Now 77 viewers" in text_of(section(changed, "stream-audience"))
    assert 'class="viewers" hx-swap-oob="morph">77' in changed.replace("\n", "")
    assert 'id="stream-timeline"' in changed
    new_url = re.search(r'id="stream-poller" data-poll hx-get="([^"]+)"', changed).group(1)  # type: ignore[union-attr]
    assert new_url != poll_url


def test_the_poll_of_a_stream_deleted_in_the_mirror_stops(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="idle")
    mirror.forget(stream.stream_id, timezone.now())
    worker_is_current()
    emulator.clear_requests()
    response = producer_client.get(f"/streams/{stream.stream_id}/live/")
    assert response.status_code == 286
    assert "This stream no longer exists" in response.content.decode()
    assert emulator.requests() == []


def test_the_poll_asks_fastpix_when_the_mirror_does_not_know_the_stream(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = emulator.create_stream(status="active", views=9)["streamId"]
    worker_is_current()
    html = producer_client.get(f"/streams/{stream_id}/live/").content.decode()
    assert 'class="viewers" hx-swap-oob="morph">9' in html.replace("\n", "")
    assert MirroredStream.objects.get(stream_id=stream_id).status == "active"  # the read was kept


# ---------------------------------------------------------------- recordings


def test_a_recordings_peak_is_the_highest_sample_of_its_broadcast(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    since = timezone.now() - timedelta(minutes=30)
    stream = mirrored(emulator, at=since, status="active", metadata={"livestream_name": "Keynote"})
    record(stream.stream_id, since - timedelta(minutes=20), [900])  # an earlier broadcast's sample
    record(stream.stream_id, since, [10, 120, 80])
    ended = since + timedelta(minutes=10)
    media = emulator.create_media(
        stream.stream_id, duration_seconds=600, created_at=ended.isoformat().replace("+00:00", "Z")
    )
    peak = history.recording_peak(get_client().get_media(media["id"]))
    assert peak is not None
    assert (peak.views, peak.at) == (120, since + timedelta(seconds=5))

    rows = producer_client.get(f"/streams/{stream.stream_id}/recordings/", HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="recording-rows").content.decode()  # fmt: skip
    assert "Peak viewers" in rows
    assert re.search(r'data-label="Peak viewers">120<', rows)
    detail = text_of(producer_client.get(f"/recordings/{media['id']}/").content.decode())
    assert "Peak viewers 120" in detail


def test_a_recording_without_samples_has_no_peak(producer_client: Client, emulator: EmulatorControl) -> None:
    stream_id = emulator.create_stream()["streamId"]
    media = emulator.create_media(stream_id)
    assert history.recording_peak(get_client().get_media(media["id"])) is None
    detail = text_of(producer_client.get(f"/recordings/{media['id']}/").content.decode())
    assert "Peak viewers Not sampled" in detail
