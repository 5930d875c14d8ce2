"""Browser journeys on a live stream's page kept current by the console's memory: the audience graph
grows while viewers rise, and the run-of-show shows a disconnection then the reconnection as the events
land, all without reloading the page (and with focus left where the user put it).

The test stands in for the worker (it writes the samples with `mirror.record_viewers` and marks the
sampler's run) and for the event intake (it stores `ReceivedEvent` rows and applies the stream to the
mirror), so the page's poll has only the database to read."""

from __future__ import annotations

import re
from itertools import count
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from streams.client import get_client
from streams.models import ReceivedEvent, WorkerRun
from streams.workspace import mirror
from tests.e2e.conftest import assert_no_axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

_event_ids = count(1)


def sampler_ran() -> None:
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def sample(stream_id: str) -> int:
    """One sampler period: FastPix's count, kept as a sample."""
    views = get_client().get_viewer_count(stream_id).views
    mirror.record_viewers({stream_id: views}, timezone.now())
    sampler_ran()
    return views


def event_lands(stream_id: str, kind: str, encoder: Any = None) -> None:
    """What the intake does with a genuine event: the stream as FastPix has it, applied, and the event kept."""
    now = timezone.now()
    event_id = f"evt-e2e-{next(_event_ids)}"
    event_type = f"video.live_stream.{kind}"
    stream = get_client().get_stream(stream_id)
    applied = mirror.observe(
        stream, now, from_event=True, encoder=encoder, event_id=event_id, event_type=event_type
    )
    ReceivedEvent.objects.create(
        received_at=now,
        event_id=event_id,
        event_type=event_type,
        stream_id=stream_id,
        occurred_at=now,
        signature=ReceivedEvent.Signature.VALID,
        verdict=ReceivedEvent.Verdict.APPLIED if applied.changed else ReceivedEvent.Verdict.UNCHANGED,
        changes=applied.changes,
        # The part of the redacted payload the timeline reads (the intake keeps all of `data`).
        payload={
            "id": event_id,
            "type": event_type,
            "object": {"type": "live", "id": stream_id},
            "data": {
                "streamId": stream_id,
                "status": stream.status,
                "reconnectWindow": stream.reconnect_window,
            },
        },
    )
    sampler_ran()


def fact(term: str, value: str) -> re.Pattern[str]:
    """A term and its value in the summary (a <dl>: no space between them in its text)."""
    return re.compile(rf"{term}\s*{value}")


def points_drawn(page: Page) -> int:
    line = page.locator("#stream-audience polyline.chart-line").get_attribute("points") or ""
    return len(line.split())


def test_the_audience_graph_grows_and_the_timeline_shows_a_disconnect_then_the_reconnect(
    page: Page, sign_in: Any, emulator: Any, live_server: Any, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    stream_id = emulator.create_stream(
        status="active", views=10, reconnectWindow=300, metadata={"livestream_name": "Main stage"}
    )["streamId"]
    mirror.observe(get_client().get_stream(stream_id), timezone.now())
    sample(stream_id)
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    page.evaluate("window.notReloaded = true")
    summary = page.locator("#audience-summary")
    expect(summary).to_contain_text(fact("Now", "10 viewers"))
    chart = page.get_by_role("img", name=re.compile("Viewers over time"))
    expect(chart).to_be_visible()
    finish = page.get_by_role("link", name="Finish broadcast")
    finish.focus()

    # The audience rises; each sampler period adds a point, and the page follows on its own.
    for views in (40, 120, 90):
        emulator.set_viewers(stream_id, views)
        sample(stream_id)
        expect(summary).to_contain_text(fact("Now", f"{views} viewers"), timeout=10_000)
    expect(summary).to_contain_text(fact("Peak", "120 viewers"))
    expect(summary).to_contain_text(fact("Average", "65 viewers"))  # (10 + 40 + 120 + 90) / 4
    assert points_drawn(page) == 4
    expect(page.locator("#stream-viewers")).to_have_text("90")
    expect(chart).to_have_accessible_name(re.compile(r"now 90, peak 120 at .*, average 65"))

    # The encoder drops, then returns within the reconnect window: the run-of-show says so as it happens.
    timeline = page.locator("#stream-timeline ol.timeline")
    emulator.disconnect(stream_id)
    event_lands(stream_id, "disconnected", encoder="disconnected")
    expect(timeline.locator("li").last).to_contain_text("Disconnected", timeout=10_000)
    expect(timeline).to_contain_text("the stream waits 300 s for it to return")
    emulator.connect(stream_id)
    event_lands(stream_id, "connected", encoder="connected")
    expect(timeline.locator("li").last).to_contain_text("Reconnected within the window", timeout=10_000)
    titles = timeline.locator(".moment-title").all_inner_texts()
    assert titles.index("Disconnected") < titles.index("Reconnected within the window")
    assert "Peak audience so far: 120 viewers" in titles

    assert page.evaluate("window.notReloaded") is True  # morphed in place, never reloaded
    assert page.evaluate("document.activeElement.textContent.trim()") == "Finish broadcast"
    assert_no_axe_violations(page)
