"""Drops and incidents (streams/workspace/alerts.py): what the mirror and the events say becomes one
incident per key, whatever the number of runs; a drop closes when the encoder returns, and becomes "did
not reconnect" when the broadcast ends without it; failed recordings and broadcasts far longer than planned
are incidents too. The stream's page and its poll show the drop banner straight from the mirror."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import Incident, MirroredStream, Notification, WorkerRun
from streams.workspace import alerts, intake, mirror
from streams.workspace.signature import fastpix_signature

pytestmark = pytest.mark.django_db

NAME = "Main stage"
SECRET = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="


@pytest.fixture(autouse=True)
def _alert_settings(settings: Any) -> None:
    settings.ALERT_EMAILS = ["producer@example.com", "oncall@example.com"]
    settings.ALERT_WEBHOOK_URL = "http://127.0.0.1:9/hooks/alerts"
    settings.ALERT_PLANNED_MINUTES = 120
    settings.ALERT_OVERRUN_FACTOR = 1.5


def live_stream(emulator: EmulatorControl, **fields: Any) -> str:
    metadata = {"livestream_name": NAME, **fields.pop("metadata", {})}
    fields.setdefault("reconnectWindow", 60)
    stream = emulator.create_stream(status="active", metadata=metadata, **fields)
    sid = str(stream["streamId"])
    seen(sid)
    return sid


def seen(sid: str, encoder: Any = None, at: datetime | None = None) -> mirror.Applied:
    """What the intake does with a stream event: FastPix's stream, applied to the mirror."""
    return mirror.observe(
        get_client().get_stream(sid), at or timezone.now(), from_event=True, encoder=encoder
    )


def row(sid: str) -> MirroredStream:
    return MirroredStream.objects.get(stream_id=sid)


def incidents(kind: str | None = None) -> list[Incident]:
    found = Incident.objects.order_by("id")
    return list(found.filter(kind=kind) if kind else found)


# ------------------------------------------------------------------------------------------- the drop


def test_a_drop_is_live_with_the_encoder_gone_and_counts_down_the_streams_reconnect_window(
    emulator: EmulatorControl,
) -> None:
    sid = live_stream(emulator, reconnectWindow=120)
    assert alerts.drop_of(row(sid)) is None

    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")

    left_at = row(sid).disconnected_at
    assert left_at is not None
    drop = alerts.drop_of(row(sid), now=left_at + timedelta(seconds=73))
    assert drop is not None
    assert (drop.name, drop.window, drop.deadline) == (NAME, 120, left_at + timedelta(seconds=120))
    assert (drop.seconds_left, drop.countdown, drop.expired) == (47, "0:47", False)
    late = alerts.drop_of(row(sid), now=left_at + timedelta(seconds=130))
    assert late is not None
    assert (late.countdown, late.expired) == ("0:00", True)
    assert alerts.countdown(3725) == "1:02:05"


def test_a_preparing_or_ended_stream_is_no_drop(emulator: EmulatorControl) -> None:
    sid = str(emulator.create_stream(status="idle", metadata={"livestream_name": NAME})["streamId"])
    seen(sid, encoder="disconnected")
    assert alerts.drop_of(row(sid)) is None
    assert alerts.drop_of(None) is None


def test_a_drop_opens_one_incident_with_one_notification_per_channel_however_often_it_is_seen(
    emulator: EmulatorControl,
) -> None:
    sid = live_stream(emulator)
    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    seen(sid, encoder="disconnected")  # FastPix said it twice

    for _ in range(3):
        alerts.detect()

    [drop] = incidents()
    left_at = row(sid).disconnected_at
    assert left_at is not None
    assert drop.kind == "drop"
    assert drop.key == f"drop:{sid}:{left_at.isoformat()}"
    assert (drop.stream_id, drop.stream_name, drop.opened_at, drop.closed_at) == (sid, NAME, left_at, None)
    assert drop.detail["reconnect_window"] == 60
    assert drop.detail["summary"].startswith(f"{NAME}: the encoder disconnected at ")
    assert "or FastPix ends the broadcast" in drop.detail["summary"]
    assert sorted(n.channel for n in Notification.objects.filter(incident=drop)) == ["email", "webhook"]
    assert set(Notification.objects.values_list("state", flat=True)) == {"pending"}


def test_a_key_opened_before_is_not_opened_again_nor_its_notifications_queued_again() -> None:
    """Two runs that both saw the key as new: the database's unique key lets only the first open it."""
    now = timezone.now()
    args = ("drop:s1:then", "drop", "s1", NAME, now, f"{NAME}: the encoder disconnected.")

    first = alerts.open_incident(*args, now=now)
    second = alerts.open_incident(*args, now=now + timedelta(seconds=1))

    assert first is not None
    assert second is None
    assert [i.key for i in incidents()] == ["drop:s1:then"]
    assert sorted(Notification.objects.values_list("channel", flat=True)) == ["email", "webhook"]
    assert set(Notification.objects.values_list("incident", flat=True)) == {first.pk}


def test_without_a_channel_an_incident_is_kept_and_nobody_is_queued(
    emulator: EmulatorControl, settings: Any
) -> None:
    settings.ALERT_EMAILS = []
    settings.ALERT_WEBHOOK_URL = ""
    sid = live_stream(emulator)
    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")

    alerts.detect()

    assert [i.kind for i in incidents()] == ["drop"]
    assert not Notification.objects.exists()


def test_a_reconnect_closes_the_drop_and_a_second_drop_is_a_second_incident(
    emulator: EmulatorControl,
) -> None:
    sid = live_stream(emulator)
    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    alerts.detect()

    emulator.connect(sid)
    seen(sid, encoder="connected")
    result = alerts.detect()

    [first] = incidents()
    assert first.closed_at is not None
    assert first.detail["outcome"] == "reconnected"
    assert result["closed"] == 1
    assert result["not_reconnected"] == 0

    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    alerts.detect()
    alerts.detect()
    drops = incidents("drop")
    assert len(drops) == 2
    assert drops[1].closed_at is None
    assert drops[1].key != drops[0].key
    assert not incidents("not_reconnected")


def test_a_drop_that_outlasts_the_window_becomes_did_not_reconnect_once(emulator: EmulatorControl) -> None:
    sid = live_stream(emulator)
    live = get_client().get_stream(sid)
    # The encoder left 61 s ago with a 60 s window: FastPix said "disconnected" (the stream still live)…
    emulator.disconnect(sid, ago=61)
    mirror.observe(live, timezone.now(), from_event=True, encoder="disconnected")
    alerts.detect()
    assert [i.kind for i in incidents()] == ["drop"]

    # … then ended the broadcast: the stream is idle.
    assert emulator.stream_state(sid)["stream"]["status"] == "idle"
    seen(sid)
    assert row(sid).disconnected_at is None
    for _ in range(3):
        alerts.detect()

    [drop] = incidents("drop")
    assert drop.closed_at is not None
    assert drop.detail["outcome"] == "ended"
    [missed] = incidents("not_reconnected")
    assert missed.key == "not_reconnected:" + drop.key.removeprefix("drop:")
    assert missed.stream_name == NAME
    assert "did not reconnect" in missed.detail["summary"]
    assert "60 s reconnect window" in missed.detail["summary"]
    assert "(status: idle)" in missed.detail["summary"]
    assert Notification.objects.filter(incident=missed).count() == 2


def test_finishing_a_dropped_stream_from_the_console_is_not_a_failure_to_reconnect(
    emulator: EmulatorControl, admin_client: Client
) -> None:
    sid = live_stream(emulator)
    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    alerts.detect()

    admin_client.post(f"/streams/{sid}/finish/", follow=True)
    assert emulator.stream_state(sid)["stream"]["status"] == "idle"
    seen(sid)
    alerts.detect()

    [drop] = incidents()
    assert drop.closed_at is not None
    assert not incidents("not_reconnected")


def test_a_deleted_stream_that_had_dropped_closes_its_drop(emulator: EmulatorControl) -> None:
    sid = live_stream(emulator)
    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    alerts.detect()

    mirror.forget(sid, timezone.now())
    alerts.detect()

    [drop, missed] = incidents()
    assert drop.closed_at is not None
    assert missed.kind == "not_reconnected"
    assert "(status: deleted)" in missed.detail["summary"]


def test_detect_reads_only_the_mirror_fields_it_uses_and_no_row_twice(emulator: EmulatorControl) -> None:
    """detect runs every second: it loads neither search_text nor media_ids, and no field it needs is left
    out (a deferred field would cost one more query per row)."""
    sids = [live_stream(emulator, metadata={"planned_minutes": "1"}) for _ in range(2)]
    for sid in sids:
        emulator.disconnect(sid)
        seen(sid, encoder="disconnected")
    MirroredStream.objects.filter(stream_id=sids[0]).update(live_since=timezone.now() - timedelta(minutes=5))

    with CaptureQueriesContext(connection) as captured:
        result = alerts.detect()

    assert (result["drops"], result["overruns"]) == (2, 1)
    reads = [q["sql"] for q in captured.captured_queries if 'FROM "streams_mirroredstream"' in q["sql"]]
    assert not [sql for sql in reads if "search_text" in sql or "media_ids" in sql]
    assert len(reads) == 1 + 2 + 1  # the drops; each open drop's row; the live streams


# ------------------------------------------------------------------------------- recordings and overruns


def media_event(stream_id: str, media_id: str, kind: str = "failed", event_id: str | None = None) -> bytes:
    payload = {
        "id": event_id or str(uuid.uuid4()),
        "type": f"video.media.{kind}",
        "object": {"type": "media", "id": media_id},
        "data": {"id": media_id, "streamId": stream_id, "status": kind.capitalize()},
        "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "attempts": [],
    }
    return json.dumps(payload).encode()


def deliver(raw: bytes) -> None:
    intake.receive(raw, fastpix_signature(raw, SECRET), secret=SECRET)


def test_a_failed_recording_is_one_incident_per_media_even_when_delivered_twice(
    emulator: EmulatorControl,
) -> None:
    sid = live_stream(emulator)
    media_id = str(uuid.uuid4())
    failed = media_event(sid, media_id)
    deliver(failed)
    deliver(failed)  # the same event again: a duplicate
    deliver(media_event(sid, media_id))  # another event about the same failure
    deliver(media_event(sid, str(uuid.uuid4()), kind="ready"))  # not a failure

    alerts.detect()
    alerts.detect()

    [incident] = incidents()
    assert (incident.kind, incident.key) == ("recording_failed", f"recording_failed:{media_id}")
    assert (incident.stream_id, incident.stream_name) == (sid, NAME)
    assert f"recording {media_id} failed" in incident.detail["summary"]


def test_a_forged_media_failure_is_no_incident(emulator: EmulatorControl) -> None:
    sid = live_stream(emulator)
    raw = media_event(sid, str(uuid.uuid4()))
    intake.receive(raw, fastpix_signature(raw, "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz"), secret=SECRET)

    alerts.detect()

    assert not incidents()


def test_a_broadcast_far_longer_than_its_planned_minutes_is_an_overrun_until_it_ends(
    emulator: EmulatorControl,
) -> None:
    sid = live_stream(emulator, metadata={"planned_minutes": "30"})
    MirroredStream.objects.filter(stream_id=sid).update(live_since=timezone.now() - timedelta(minutes=44))
    alerts.detect()
    assert not incidents()  # 44 min of 30 planned: within 1.5 × 30

    since = timezone.now() - timedelta(minutes=46)
    MirroredStream.objects.filter(stream_id=sid).update(live_since=since)
    alerts.detect()
    alerts.detect()
    [overrun] = incidents()
    assert (overrun.kind, overrun.key) == ("overrun", f"overrun:{sid}:{since.isoformat()}")
    assert re.search(
        r"live for 0 h 4[67] min .* far longer than the 30 min planned", overrun.detail["summary"]
    )
    assert overrun.closed_at is None

    get_client().finish_stream(sid)
    seen(sid)
    alerts.detect()
    overrun.refresh_from_db()
    assert overrun.closed_at is not None


def test_without_planned_minutes_the_default_plan_applies(emulator: EmulatorControl, settings: Any) -> None:
    settings.ALERT_PLANNED_MINUTES = 60
    sid = live_stream(emulator, metadata={"planned_minutes": "soon"})  # not a number: the default
    MirroredStream.objects.filter(stream_id=sid).update(live_since=timezone.now() - timedelta(minutes=89))
    alerts.detect()
    assert not incidents()

    MirroredStream.objects.filter(stream_id=sid).update(live_since=timezone.now() - timedelta(minutes=91))
    alerts.detect()
    assert [i.kind for i in incidents()] == ["overrun"]
    assert "than the 60 min planned" in incidents()[0].detail["summary"]


# --------------------------------------------------------------------------------------- on the page


def sampler_ran() -> None:
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def test_the_stream_page_shows_the_drop_with_its_deadline_and_a_marked_title(
    emulator: EmulatorControl, producer_client: Client
) -> None:
    sid = live_stream(emulator)
    page = producer_client.get(f"/streams/{sid}/").content.decode()
    assert "Encoder disconnected" not in page
    assert "<title>Main stage · FastPix console</title>" in page
    assert 'id="drop-alert"' in page  # the empty slot the poll morphs into

    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    page = producer_client.get(f"/streams/{sid}/").content.decode()

    assert "<title>⚠ Dropped — Main stage · FastPix console</title>" in page
    banner = re.search(r'<div id="drop-alert"[^>]*role="alert"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert banner is not None
    text = re.sub(r"<[^>]+>", "", banner[1])
    assert re.search(
        r"Encoder disconnected: reconnect within (1:00|0:5\d), or FastPix ends the broadcast", text
    )
    deadline = row(sid).disconnected_at + timedelta(seconds=60)  # type: ignore[operator]
    # Without JavaScript the deadline's time says when.
    assert f"(at {timezone.localtime(deadline):%H:%M:%S} UTC)" in text
    assert f'data-deadline="{deadline.isoformat()}"' in banner[1]


def test_the_poll_brings_the_banner_in_and_takes_it_out(
    emulator: EmulatorControl, producer_client: Client
) -> None:
    sid = live_stream(emulator)
    sampler_ran()
    first = producer_client.get(f"/streams/{sid}/live/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="drop-alert"' in first
    assert "Encoder disconnected" not in first
    token = re.search(r"\?v=([\w-]+)", first)
    assert token is not None

    emulator.disconnect(sid)
    seen(sid, encoder="disconnected")
    dropped = producer_client.get(
        f"/streams/{sid}/live/?v={token[1]}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert re.search(r'<div id="drop-alert"[^>]*hx-swap-oob="morph"', dropped)
    assert "Encoder disconnected: reconnect within" in re.sub(r"<[^>]+>", "", dropped)

    emulator.connect(sid)
    seen(sid, encoder="connected")
    back = producer_client.get(f"/streams/{sid}/live/", HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'<div id="drop-alert"[^>]*hx-swap-oob="morph"', back)
    assert "Encoder disconnected" not in back
