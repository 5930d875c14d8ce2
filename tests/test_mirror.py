"""The mirror's one rule: what FastPix said later wins, whatever order it arrives in."""

from datetime import timedelta

import pytest
from django.utils import timezone

from streams.client import LiveStream
from streams.models import MirroredStream, ViewerSample
from streams.workspace import mirror
from streams.workspace.signature import fastpix_signature, verify

pytestmark = pytest.mark.django_db

STREAM_ID = "a" * 32


def stream(status: str = "idle", name: str = "Keynote", **extra: object) -> LiveStream:
    return LiveStream(stream_id=STREAM_ID, status=status, metadata={"livestream_name": name}, **extra)  # type: ignore[arg-type]


def test_the_contracts_signature_test_vector_passes() -> None:
    secret = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="
    body = b'{"type":"video.live_stream.active","id":"evt_1"}'
    assert fastpix_signature(body, secret) == "zPQUa2TnJyDWoAkor8OGDABSU5VZ/NggqmxrpUNSRwE="
    assert verify(body, "zPQUa2TnJyDWoAkor8OGDABSU5VZ/NggqmxrpUNSRwE=", secret)
    assert not verify(body + b" ", "zPQUa2TnJyDWoAkor8OGDABSU5VZ/NggqmxrpUNSRwE=", secret)
    assert not verify(body, None, secret)


def test_an_older_observation_never_overwrites_a_newer_one() -> None:
    now = timezone.now()
    assert mirror.observe(stream("active"), now).changes["status"] == [None, "active"]
    late = mirror.observe(stream("idle", name="Old name"), now - timedelta(seconds=3))
    assert late.stale
    row = MirroredStream.objects.get()
    assert (row.status, row.name, row.live_since) == ("active", "Keynote", now)


def test_an_event_never_brings_back_a_deleted_stream_but_a_read_does() -> None:
    now = timezone.now()
    mirror.observe(stream("idle"), now)
    assert mirror.forget(STREAM_ID, now + timedelta(seconds=1)).changes["status"] == ["idle", "deleted"]
    assert mirror.observe(stream("idle"), now + timedelta(seconds=2), from_event=True).stale
    assert MirroredStream.objects.get().deleted_at is not None
    assert not mirror.observe(stream("idle"), now + timedelta(seconds=3)).stale
    assert MirroredStream.objects.get().deleted_at is None


def test_every_change_bumps_the_workspace_version_and_a_repeat_does_not() -> None:
    now = timezone.now()
    start = mirror.version()
    mirror.observe(stream("preparing"), now)
    assert mirror.version() == start + 1
    assert not mirror.observe(stream("preparing"), now + timedelta(seconds=1)).changed
    assert mirror.version() == start + 1


def test_a_disconnect_is_kept_until_the_encoder_returns_or_the_broadcast_ends() -> None:
    now = timezone.now()
    mirror.observe(stream("active"), now, encoder="connected")
    mirror.observe(stream("active"), now + timedelta(seconds=1), encoder="disconnected")
    assert MirroredStream.objects.get().disconnected_at == now + timedelta(seconds=1)
    mirror.observe(stream("active"), now + timedelta(seconds=2), encoder="connected")
    assert MirroredStream.objects.get().disconnected_at is None
    mirror.observe(stream("idle"), now + timedelta(seconds=3))
    assert MirroredStream.objects.get().live_since is None


def test_viewer_counts_are_kept_only_for_streams_still_live() -> None:
    now = timezone.now()
    mirror.observe(stream("active"), now)
    assert mirror.record_viewers({STREAM_ID: 12, "b" * 32: 3}, now) == 1
    assert list(ViewerSample.objects.values_list("stream_id", "views")) == [(STREAM_ID, 12)]
    assert MirroredStream.objects.get().viewers == 12
    mirror.observe(stream("idle"), now + timedelta(seconds=1))
    assert mirror.record_viewers({STREAM_ID: 14}, now + timedelta(seconds=2)) == 0
    assert MirroredStream.objects.get().viewers is None


def test_a_read_the_row_already_shows_need_not_be_written_and_any_difference_must() -> None:
    now = timezone.now()
    mirror.observe(stream("active", enable_recording=False), now)
    row = MirroredStream.objects.get()
    assert mirror.holds(row, stream("active", enable_recording=False))
    assert not mirror.holds(row, stream("idle", enable_recording=False))
    assert not mirror.holds(row, stream("active", name="Renamed", enable_recording=False))
    assert not mirror.holds(row, stream("active", enable_recording=True))
    assert not mirror.holds(row, stream("active", enable_recording=False, media_ids=("m1",)))
    assert not mirror.holds(None, stream("active"))
    mirror.forget(STREAM_ID, now + timedelta(seconds=1))
    assert not mirror.holds(MirroredStream.objects.get(), stream("active", enable_recording=False))


def test_one_query_tells_a_poll_the_version_the_freshness_and_a_streams_newest_audit_and_event() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from streams.models import AuditEntry, ReceivedEvent, WorkerRun
    from streams.workspace.freshness import pulse

    now = timezone.now().replace(microsecond=123456)
    mirror.observe(stream("active"), now)
    WorkerRun.objects.create(job="sample", started_at=now, ok_at=now)
    entry = AuditEntry.objects.create(username="a", action="finish", stream_id=STREAM_ID, outcome="done")
    event = ReceivedEvent.objects.create(
        received_at=now, stream_id=STREAM_ID, signature="valid", verdict="applied", event_id="e1"
    )
    ReceivedEvent.objects.create(received_at=now, stream_id="b" * 32, signature="valid", verdict="applied")
    with CaptureQueriesContext(connection) as queries:
        read = pulse(STREAM_ID)
        assert read.freshness.event_at == now
    assert len(queries) == 1
    row_revision = MirroredStream.objects.get().revision
    assert row_revision == mirror.version()  # the row's own newest change
    assert read.stream_token == f"{row_revision}-{entry.id}-{event.id}"
    assert (read.freshness.sampled_at, read.freshness.reconciled_at) == (now, None)
    assert read.freshness.sampling
    assert not read.freshness.synced
    assert pulse("c" * 32).stream_token == "0-0-0"  # a stream the mirror does not know


def test_a_streams_revision_moves_with_its_own_changes_and_not_with_anothers() -> None:
    now = timezone.now()
    other = LiveStream(stream_id="b" * 32, status="active")
    mirror.observe(stream("active"), now)
    mirror.observe(other, now)
    mine = MirroredStream.objects.get(stream_id=STREAM_ID).revision
    mirror.record_viewers({other.stream_id: 5}, now)
    mirror.observe(LiveStream(stream_id=other.stream_id, status="idle"), now + timedelta(seconds=1))
    assert MirroredStream.objects.get(stream_id=STREAM_ID).revision == mine
    mirror.record_viewers({STREAM_ID: 9}, now + timedelta(seconds=2))
    assert MirroredStream.objects.get(stream_id=STREAM_ID).revision == mirror.version() > mine
    mirror.touch([other.stream_id])
    assert MirroredStream.objects.get(stream_id=other.stream_id).revision == mirror.version()
