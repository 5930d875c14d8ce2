"""The run-of-show: FastPix's events about a stream, the console's actions on it and its audience's peak,
in one chronological list, in words a producer reads."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import AuditEntry, ReceivedEvent, WorkerRun
from streams.workspace import history, mirror

pytestmark = pytest.mark.django_db

STREAM_ID = "b" * 32
_ids = count(1)


def event(
    kind: str, at: datetime, *, stream_id: str = STREAM_ID, verdict: str = "applied", **extra: Any
) -> ReceivedEvent:
    """A received event as the intake stores it (it is being built alongside; the fields are the model's)."""
    prefix = "video.media." if kind.startswith("media.") else "video.live_stream."
    return ReceivedEvent.objects.create(
        received_at=at + timedelta(milliseconds=40),
        event_id=f"evt-{next(_ids)}",
        event_type=prefix + kind.removeprefix("media."),
        stream_id=stream_id,
        occurred_at=at,
        signature=ReceivedEvent.Signature.VALID,
        verdict=verdict,
        **extra,
    )


def action(
    name: str, at: datetime, *, username: str = "pat", outcome: str = "done", message: str = ""
) -> None:
    entry = AuditEntry.objects.create(
        username=username,
        action=name,
        stream_id=STREAM_ID,
        stream_name="Keynote",
        outcome=outcome,
        message=message,
    )
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=at)  # auto_now_add: set the moment afterwards


def titles(moments: list[history.Moment]) -> list[str]:
    return [m.title for m in moments]


def test_events_read_as_words_in_the_order_they_happened() -> None:
    start = timezone.now() - timedelta(minutes=30)
    # Received out of order: the timeline follows when they happened.
    event("active", start + timedelta(seconds=20))
    event("connected", start)
    event("preparing", start + timedelta(seconds=2))
    event("idle", start + timedelta(minutes=20))
    event("media.ready", start + timedelta(minutes=21))
    assert titles(history.timeline(STREAM_ID)) == [
        "Encoder connected",
        "Preparing",
        "Live",
        "Ended (idle)",
        "Recording ready",
    ]


def test_a_connection_after_a_disconnection_while_the_broadcast_lasts_is_a_reconnection() -> None:
    start = timezone.now() - timedelta(minutes=30)
    event("connected", start)
    event("active", start + timedelta(seconds=5))
    event("disconnected", start + timedelta(minutes=5), payload={"data": {"reconnectWindow": 120}})
    event("connected", start + timedelta(minutes=6))
    event("active", start + timedelta(minutes=6, seconds=1))
    event("disconnected", start + timedelta(minutes=10))
    event("idle", start + timedelta(minutes=12))
    event("connected", start + timedelta(minutes=15))  # a new broadcast, not a reconnection
    moments = history.timeline(STREAM_ID)
    assert titles(moments) == [
        "Encoder connected",
        "Live",
        "Disconnected",
        "Reconnected within the window",
        "Live again",
        "Disconnected",
        "Ended (idle)",
        "Encoder connected",
    ]
    assert moments[2].detail == "The encoder left; the stream waits 120 s for it to return."


def test_console_actions_and_the_audience_peak_join_the_events_in_time_order() -> None:
    start = timezone.now() - timedelta(minutes=30)
    event("active", start)
    action("finish", start + timedelta(minutes=10), username="alex", message="")
    event("idle", start + timedelta(minutes=10, seconds=1))
    action("disable", start + timedelta(minutes=11), outcome="failed", message="FastPix answered 503.")
    seen = history.summarise(
        [history.Point(start + timedelta(minutes=4), 250), history.Point(start + timedelta(minutes=5), 90)],
        live=False,
    )
    moments = history.timeline(STREAM_ID, seen)
    assert [(m.kind, m.title) for m in moments] == [
        ("event", "Live"),
        ("audience", "Peak audience of the broadcast: 250 viewers"),
        ("action", "Finish"),
        ("event", "Ended (idle)"),
        ("action", "Disable"),
    ]
    assert (moments[2].who, moments[2].outcome) == ("alex", "done")
    assert moments[4].detail == "FastPix answered 503."


def test_only_applied_and_unchanged_events_of_this_stream_appear() -> None:
    start = timezone.now() - timedelta(minutes=5)
    event("active", start)
    event("idle", start + timedelta(seconds=1), verdict="duplicate")
    event("idle", start + timedelta(seconds=2), verdict="out_of_order")
    event("disabled", start + timedelta(seconds=3), verdict="rejected")
    event("connected", start + timedelta(seconds=4), verdict="unchanged")
    event("updated", start + timedelta(seconds=5), verdict="unchanged")  # changed nothing: not news
    event("updated", start + timedelta(seconds=6), changes={"metadata": [{}, {"a": "b"}]})
    event("idle", start + timedelta(seconds=7), stream_id="c" * 32)
    moments = history.timeline(STREAM_ID)
    assert titles(moments) == ["Live", "Encoder connected", "Settings or metadata updated"]
    assert moments[2].detail == "Changed: metadata."


def test_the_detail_page_shows_the_timeline_as_an_ordered_list_with_machine_readable_times(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Keynote"})["streamId"]
    start = timezone.now() - timedelta(minutes=3)
    event("active", start, stream_id=stream_id)
    event("disconnected", start + timedelta(minutes=1), stream_id=stream_id)
    event("connected", start + timedelta(minutes=2), stream_id=stream_id)
    html = producer_client.get(f"/streams/{stream_id}/").content.decode()
    timeline = html[
        html.index('id="stream-timeline"') : html.index("</section>", html.index('id="stream-timeline"'))
    ]
    assert '<ol class="timeline">' in timeline
    items = re.findall(r'<li class="moment moment-event"><time datetime="([^"]+)"[^>]*>[^<]+</time> '
                       r'<span class="moment-title">([^<]+)</span>', timeline)  # fmt: skip
    assert [title for _, title in items] == ["Live", "Disconnected", "Reconnected within the window"]
    assert items[0][0] == start.replace(microsecond=0).isoformat()


def test_the_poll_brings_new_events_onto_the_timeline_without_fastpix(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = emulator.create_stream(status="active")["streamId"]
    now = timezone.now()
    mirror.observe(get_client().get_stream(stream_id), now)
    for job in ("reconcile", "sample"):
        WorkerRun.objects.create(job=job, started_at=now, finished_at=now, ok_at=now)
    page = producer_client.get(f"/streams/{stream_id}/").content.decode()
    poll_url = re.search(r'id="stream-poller" data-poll hx-get="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    emulator.clear_requests()
    assert "stream-timeline" not in producer_client.get(poll_url).content.decode()

    event(
        "disconnected", timezone.now(), stream_id=stream_id
    )  # the intake stored an event that changed nothing
    html = producer_client.get(poll_url).content.decode()
    assert emulator.requests() == []
    assert 'id="stream-timeline" aria-labelledby="timeline-heading" hx-swap-oob="morph"' in html
    assert '<span class="moment-title">Disconnected</span>' in html


def test_an_empty_timeline_says_what_will_appear(producer_client: Client, emulator: EmulatorControl) -> None:
    stream_id = emulator.create_stream()["streamId"]
    html = producer_client.get(f"/streams/{stream_id}/").content.decode()
    assert "Nothing yet: FastPix's events about this stream" in html
