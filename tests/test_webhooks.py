"""POST /webhooks/fastpix/: FastPix's signed events in (contract §5), every bad delivery refused with a
clear status and recorded, and nothing an event says applied out of order or twice."""

from __future__ import annotations

import io
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.db import connection, connections
from django.test import Client

from streams.client import get_client
from streams.models import MirroredStream, ReceivedEvent
from streams.workspace import intake, mirror
from streams.workspace.signature import fastpix_signature
from tests.consoles import console_env, running_consoles

pytestmark = pytest.mark.django_db

URL = "/webhooks/fastpix/"
# The contract's test vector (§5.3).
SECRET = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="
VECTOR_BODY = b'{"type":"video.live_stream.active","id":"evt_1"}'
VECTOR_SIGNATURE = "zPQUa2TnJyDWoAkor8OGDABSU5VZ/NggqmxrpUNSRwE="
SIGNED = object()  # post(): sign the body with SECRET


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = SECRET


def event(
    event_type: str,
    stream: dict[str, Any],
    *,
    at: datetime | None = None,
    event_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """An event exactly as contract §5.2 shapes it, carrying `stream` (the GET object) in `data`."""
    data = {**stream, "status": status or stream["status"]}
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "object": {"type": "live", "id": stream["streamId"]},
        "workspace": {"id": "6b1b0e58-0000-4000-8000-000000000000", "name": "emulator"},
        "status": data["status"],
        "data": data,
        "createdAt": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "attempts": [],
    }


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def post(client: Client, payload: dict[str, Any] | bytes, signature: Any = SIGNED, **extra: Any) -> Any:
    raw = payload if isinstance(payload, bytes) else body_of(payload)
    headers = {}
    if signature is SIGNED:
        headers["FastPix-Signature"] = fastpix_signature(raw, SECRET)
    elif signature is not None:
        headers["FastPix-Signature"] = signature
    return client.post(URL, data=raw, content_type="application/json", headers=headers, **extra)


def only_event() -> ReceivedEvent:
    events = list(ReceivedEvent.objects.all())
    assert len(events) == 1, events
    return events[0]


def row_of(stream: dict[str, Any]) -> MirroredStream:
    return MirroredStream.objects.get(stream_id=stream["streamId"])


# ------------------------------------------------------------------------------------------- the door


def test_the_contracts_test_vector_is_accepted_through_the_view(client: Client) -> None:
    response = post(client, VECTOR_BODY, signature=VECTOR_SIGNATURE)

    assert response.status_code == 200
    received = only_event()
    assert (received.signature, received.event_id, received.event_type) == (
        "valid",
        "evt_1",
        "video.live_stream.active",
    )
    assert received.size == len(VECTOR_BODY)
    assert received.verdict == "unchanged"  # it names no stream: kept, nothing to apply
    assert not MirroredStream.objects.exists()


def test_a_signed_event_needs_no_login_and_no_csrf_token(emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    client = Client(enforce_csrf_checks=True)

    response = post(client, event("video.live_stream.updated", stream))

    assert response.status_code == 200
    assert response.json() == {"verdict": "applied"}
    assert row_of(stream).status == "idle"


def test_only_post_is_answered(client: Client) -> None:
    assert client.get(URL).status_code == 405
    assert client.put(URL, data=VECTOR_BODY).status_code == 405
    assert not ReceivedEvent.objects.exists()


def test_without_a_configured_secret_every_delivery_is_refused_with_503(
    client: Client, settings: Any
) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = ""

    response = post(client, VECTOR_BODY, signature=VECTOR_SIGNATURE)

    assert response.status_code == 503
    received = only_event()
    assert (received.verdict, received.signature, received.payload) == ("rejected", "not_checked", None)
    assert "FASTPIX_WEBHOOK_SECRET" in received.note


# --------------------------------------------------------------------------------------- forged events


def test_a_forged_event_is_refused_recorded_and_changes_nothing(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    forged = event("video.live_stream.active", stream, status="active")

    response = post(client, forged, signature=fastpix_signature(body_of(forged), "d3Jvbmctc2VjcmV0"))

    assert response.status_code == 401
    received = only_event()
    assert (received.verdict, received.signature) == ("rejected", "wrong")
    assert received.payload is None
    assert received.changes is None
    # What it claimed to be is kept, so an administrator can tell a forgery from a wrong secret.
    assert (received.event_id, received.event_type) == (forged["id"], "video.live_stream.active")
    assert received.stream_id == stream["streamId"]
    assert not MirroredStream.objects.exists()


def test_an_unsigned_event_is_refused_as_missing_its_signature(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")

    response = post(client, event("video.live_stream.updated", stream), signature=None)

    assert response.status_code == 401
    assert (only_event().verdict, only_event().signature) == ("rejected", "missing")
    assert not MirroredStream.objects.exists()


def test_a_body_changed_after_signing_fails_its_signature(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    genuine = body_of(event("video.live_stream.updated", stream))
    tampered = genuine.replace(b'"idle"', b'"disabled"')

    response = post(client, tampered, signature=fastpix_signature(genuine, SECRET))

    assert response.status_code == 401
    assert only_event().signature == "wrong"


def test_a_forgery_does_not_take_the_event_id_of_the_genuine_event(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    genuine = event("video.live_stream.updated", stream)
    post(client, genuine, signature="Zm9yZ2Vk")

    response = post(client, genuine)

    assert response.status_code == 200
    assert ReceivedEvent.objects.get(signature="valid").verdict == "applied"
    assert row_of(stream).status == "idle"


# ---------------------------------------------------------------------------------------- bad bodies


def test_a_body_cut_short_in_transit_fails_its_signature(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    whole = body_of(event("video.live_stream.updated", stream))

    response = post(client, whole[: len(whole) // 2], signature=fastpix_signature(whole, SECRET))

    assert response.status_code == 401
    assert not MirroredStream.objects.exists()


def test_a_truncated_but_signed_body_is_malformed(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    whole = body_of(event("video.live_stream.updated", stream))

    response = post(client, whole[:-7])

    assert response.status_code == 400
    received = only_event()
    assert (received.verdict, received.signature, received.payload) == ("malformed", "valid", None)
    assert "not JSON" in received.note
    assert not MirroredStream.objects.exists()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"event=video.live_stream.active", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[1, 2, 3]", "not an object"),
        (b'"video.live_stream.active"', "not an object"),
        (b'{"type": "video.live_stream.active"}', "no usable top-level `id`"),
        (b'{"id": "evt_9"}', "no usable top-level `id`"),
        (b'{"id": 42, "type": "video.live_stream.active"}', "no usable top-level `id`"),
        (b'{"id": "   ", "type": "video.live_stream.active"}', "no usable top-level `id`"),
        (b'{"id": "' + b"x" * 101 + b'", "type": "video.live_stream.active"}', "no usable top-level `id`"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
    ids=[
        "form",
        "binary",
        "array",
        "string",
        "no-id",
        "no-type",
        "numeric-id",
        "blank-id",
        "long-id",
        "deep",
    ],
)
def test_a_signed_body_that_is_not_an_event_is_answered_400(client: Client, body: bytes, why: str) -> None:
    response = post(client, body)

    assert response.status_code == 400
    received = only_event()
    assert received.verdict == "malformed"
    assert why in received.note
    assert not MirroredStream.objects.exists()


def test_an_unknown_event_type_is_kept_and_applies_nothing(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")

    response = post(client, event("video.live_stream.srt_detected", stream, status="active"))

    assert response.status_code == 200
    received = only_event()
    assert received.verdict == "unknown_type"
    assert received.stream_id == stream["streamId"]
    assert received.payload["type"] == "video.live_stream.srt_detected"
    assert not MirroredStream.objects.exists()


# ----------------------------------------------------------------------------------------- oversized


def test_a_body_declared_over_one_megabyte_is_refused_with_413_unread(client: Client) -> None:
    oversized = b'{"id":"evt_big","type":"video.live_stream.updated","pad":"' + b"x" * 1_048_576 + b'"}'

    response = post(client, oversized)

    assert response.status_code == 413
    received = only_event()
    assert (received.verdict, received.signature, received.payload) == ("too_large", "not_checked", None)
    assert received.size == len(oversized)
    assert received.event_id == ""  # not read, so not even its claimed id


def test_a_body_of_exactly_one_megabyte_is_taken(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    raw = body_of(event("video.live_stream.updated", stream))
    raw = raw + b" " * (intake.MAX_BODY_BYTES - len(raw))  # JSON allows trailing whitespace

    response = post(client, raw)

    assert response.status_code == 200
    assert only_event().size == 1_048_576
    assert row_of(stream).status == "idle"


def test_a_chunked_body_without_a_length_is_capped_too(client: Client) -> None:
    """A de-chunking server (gunicorn) passes no Content-Length: the view reads at most the limit + 1."""

    class CountingInput(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.consumed += len(chunk)
            return chunk

    wsgi_input = CountingInput(b"x" * (5 * 1_048_576))
    wsgi_input.consumed = 0  # type: ignore[attr-defined]

    response = client.post(
        URL,
        data=b"",
        content_type="application/json",
        headers={"FastPix-Signature": "irrelevant", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
        **{"wsgi.input": wsgi_input, "wsgi.input_terminated": True},
    )

    assert response.status_code == 413
    assert wsgi_input.consumed == intake.MAX_BODY_BYTES + 1  # type: ignore[attr-defined]
    assert only_event().verdict == "too_large"


# ------------------------------------------------------------------------------ duplicates and order


def test_a_repeated_event_is_answered_200_recorded_as_duplicate_and_changes_nothing(
    client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(status="idle")
    first = event("video.live_stream.updated", stream)
    post(client, first)
    version = mirror.version()
    # A newer state arrives meanwhile; the replay of the first must not put the older one back.
    post(client, event("video.live_stream.disabled", stream, status="disabled"))

    response = post(client, first)

    assert response.status_code == 200
    assert response.json() == {"verdict": "duplicate"}
    assert row_of(stream).status == "disabled"
    duplicate = ReceivedEvent.objects.get(event_id=first["id"], verdict="duplicate")
    assert duplicate.changes is None
    assert "received before" in duplicate.note
    assert ReceivedEvent.objects.filter(event_id=first["id"]).count() == 2
    assert mirror.version() == version + 1  # only the disabled event changed the mirror


def test_an_older_idle_after_a_newer_active_leaves_the_stream_active(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    now = datetime.now(UTC)
    newer_active = event("video.live_stream.active", stream, at=now, status="active")
    older_idle = event("video.live_stream.idle", stream, at=now - timedelta(seconds=2), status="idle")

    post(client, newer_active)
    response = post(client, older_idle)

    assert response.status_code == 200
    assert row_of(stream).status == "active"
    late = ReceivedEvent.objects.get(event_id=older_idle["id"])
    assert late.verdict == "out_of_order"
    assert late.changes is None
    assert "Older than what the console knows" in late.note
    assert row_of(stream).last_event_id == newer_active["id"]


def test_events_apply_in_their_own_order_with_what_each_changed(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    start = datetime.now(UTC) - timedelta(seconds=10)
    post(client, event("video.live_stream.connected", stream, at=start, status="preparing"))
    post(client, event("video.live_stream.active", stream, at=start + timedelta(seconds=1), status="active"))
    post(
        client,
        event("video.live_stream.disconnected", stream, at=start + timedelta(seconds=3), status="active"),
    )

    row = row_of(stream)
    assert row.status == "active"
    assert row.disconnected_at == start + timedelta(seconds=3)  # the window runs from the event's own time
    assert row.live_since == start + timedelta(seconds=1)
    verdicts = list(ReceivedEvent.objects.order_by("id").values_list("event_type", "verdict", "changes"))
    assert verdicts[1] == ("video.live_stream.active", "applied", {"status": ["preparing", "active"]})
    assert verdicts[2][2] == {"disconnected_at": [None, (start + timedelta(seconds=3)).isoformat()]}


def test_an_event_without_a_usable_time_is_ordered_by_its_receipt(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    payload = event("video.live_stream.updated", stream)
    payload["createdAt"] = "2025-13-45T99:00:00Z"
    before = datetime.now(UTC)

    post(client, payload)

    received = only_event()
    assert received.verdict == "applied"
    assert before <= received.occurred_at <= datetime.now(UTC)
    assert "No usable createdAt" in received.note
    assert row_of(stream).observed_at == received.occurred_at


def test_an_event_dated_in_the_future_counts_from_its_receipt(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")

    post(client, event("video.live_stream.updated", stream, at=datetime.now(UTC) + timedelta(hours=1)))

    received = only_event()
    assert received.occurred_at == received.received_at
    assert "clocks differ" in received.note


def test_a_deleted_stream_is_not_brought_back_by_a_late_update(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    now = datetime.now(UTC)
    post(client, event("video.live_stream.updated", stream, at=now - timedelta(seconds=5)))
    deleted = {**event("video.live_stream.deleted", stream, at=now), "data": {}}

    assert post(client, deleted).status_code == 200
    post(client, event("video.live_stream.updated", stream, at=now + timedelta(milliseconds=1)))

    row = row_of(stream)
    assert row.deleted_at == now
    assert row.status == "deleted"
    assert ReceivedEvent.objects.get(event_id=deleted["id"]).changes["status"] == ["idle", "deleted"]
    assert list(ReceivedEvent.objects.order_by("id").values_list("verdict", flat=True)) == [
        "applied",
        "applied",
        "out_of_order",
    ]


def test_a_recording_event_adds_the_recording_to_its_stream(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    post(client, event("video.live_stream.updated", stream))
    media = emulator.create_media(stream["streamId"])
    media_event = {
        "id": str(uuid.uuid4()),
        "type": "video.media.ready",
        "object": {"type": "media", "id": media["id"]},
        "data": media,
        "createdAt": datetime.now(UTC).isoformat(),
    }

    assert post(client, media_event).status_code == 200
    assert post(client, {**media_event, "id": str(uuid.uuid4())}).json() == {"verdict": "unchanged"}

    assert row_of(stream).media_ids == [media["id"]]
    received = ReceivedEvent.objects.get(event_id=media_event["id"])
    assert (received.verdict, received.stream_id) == ("applied", stream["streamId"])
    assert received.changes == {"media_ids": [[], [media["id"]]]}


def test_a_simulcast_event_is_kept_against_its_stream(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    post(client, event("video.live_stream.updated", stream))
    version = mirror.version()
    simulcast = {
        "simulcastId": "a" * 32,
        "url": "rtmps://live.example.com/app",
        "streamKey": "third-party-key",
        "isEnabled": True,
        "streamId": stream["streamId"],
    }
    payload = {
        "id": str(uuid.uuid4()),
        "type": "video.live_stream.simulcast_target.created",
        "object": {"type": "simulcast_target", "id": "a" * 32},
        "data": simulcast,
        "createdAt": datetime.now(UTC).isoformat(),
    }

    assert post(client, payload).status_code == 200

    received = ReceivedEvent.objects.get(event_id=payload["id"])
    assert (received.verdict, received.stream_id) == ("unchanged", stream["streamId"])
    assert received.payload["data"]["streamKey"] == "[redacted]"
    assert mirror.version() == version


@pytest.mark.django_db(transaction=True)
def test_two_processes_receiving_one_event_at_once_apply_it_once(emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    raw = body_of(event("video.live_stream.updated", stream))
    signature = fastpix_signature(raw, SECRET)
    barrier = threading.Barrier(4)
    verdicts: list[str] = []

    def deliver() -> None:
        try:
            barrier.wait()
            verdicts.append(intake.receive(raw, signature, secret=SECRET).verdict)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(verdicts) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert row_of(stream).status == "idle"


# ------------------------------------------------------------------------------------------ secrets


def test_no_secret_of_a_real_payload_reaches_the_database_the_inspector_or_the_logs(
    client: Client, admin_client: Client, emulator: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    created = emulator.create_stream(status="idle", metadata={"livestream_name": "Keynote"})
    with httpx.Client(
        base_url=settings.FASTPIX_API_BASE,
        auth=(settings.FASTPIX_TOKEN_ID, settings.FASTPIX_SECRET_KEY),
        timeout=5,
    ) as fastpix:
        simulcast = fastpix.post(
            f"/live/streams/{created['streamId']}/simulcast",
            json={"url": "rtmps://a.rtmp.youtube.com/live2", "streamKey": "yt-key-9f8e7d6c5b4a"},
        ).json()["data"]
        stream = fastpix.get(f"/live/streams/{created['streamId']}").json()["data"]
    secrets = [
        stream["streamKey"],
        stream["srtSecret"],
        stream["srtPlaybackResponse"]["srtPlaybackSecret"],
        stream["simulcastResponses"][0]["streamKey"],
        "docs-typo-secret-0011",
        "snake-key-0022",
        "pass-phrase-0033",
        "bearer-token-0044",
        "generic-secret-0055",
    ]
    live = event("video.live_stream.updated", stream)
    live["data"]["srtSecert"] = "docs-typo-secret-0011"  # the docs' spelling (contract §5.2)
    live["data"]["extras"] = [{"Stream_Key": "snake-key-0022", "nested": {"PASSPHRASE": "pass-phrase-0033"}}]
    live["attempts"] = [{"token": "bearer-token-0044", "secret": "generic-secret-0055"}]
    simulcast_event = {
        "id": str(uuid.uuid4()),
        "type": "video.live_stream.simulcast_target.created",
        "object": {"type": "simulcast_target", "id": simulcast["simulcastId"]},
        "data": {**simulcast, "streamId": stream["streamId"]},
        "createdAt": datetime.now(UTC).isoformat(),
    }
    caplog.set_level(logging.DEBUG)

    assert post(client, live).status_code == 200
    assert post(client, simulcast_event).status_code == 200
    assert post(client, live).status_code == 200  # a duplicate is stored too
    page = admin_client.get("/events/").content.decode()

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM streams_receivedevent")
        stored = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM streams_mirroredstream")
        stored += repr(cursor.fetchall())
    assert stream["streamId"] in stored
    assert "[redacted]" in stored
    assert "Keynote" in page
    for secret in secrets:
        assert secret not in stored
        assert secret not in page
        assert secret not in caplog.text
    assert row_of(stream).status == "idle"


# ------------------------------------------------------------------- end to end: the emulator sends them


@pytest.mark.django_db(transaction=True)
def test_the_emulators_signed_webhooks_keep_the_mirror_true_through_a_broadcast(
    emulator: Any, live_server: Any
) -> None:
    """FastPix (the emulator) → signed webhooks over HTTP → the console's mirror, with a duplicate and a
    reordering on the way."""
    emulator.set_webhooks(f"{live_server.url}{URL}", SECRET, retry_base_seconds=0.05)
    fastpix = get_client()
    try:
        created = fastpix.create_stream(metadata={"livestream_name": "Opening night"})
        sid = created.stream_id

        def settled() -> MirroredStream:
            emulator.wait_for_webhooks(timeout=10)
            return MirroredStream.objects.get(stream_id=sid)

        assert settled().status == "idle"
        assert settled().name == "Opening night"

        emulator.connect(sid)
        assert settled().status == "preparing"
        emulator.go_live(sid)
        live = settled()
        assert live.status == "active"
        assert live.live_since is not None
        emulator.disconnect(sid)
        assert settled().disconnected_at is not None
        emulator.connect(sid)  # back within the reconnect window
        assert settled().disconnected_at is None

        # FastPix delivers the next update twice: applied once, recorded as a duplicate.
        emulator.webhook_chaos("duplicate", times=1, type_regex=r"\.updated$")
        version = mirror.version()
        fastpix.update_stream(sid, metadata={"livestream_name": "Opening night, part 2"}, reconnect_window=60)
        assert settled().name == "Opening night, part 2"
        updates = ReceivedEvent.objects.filter(stream_id=sid, event_type="video.live_stream.updated")
        assert sorted(updates.values_list("verdict", flat=True)) == ["applied", "duplicate"]
        assert len(set(updates.values_list("event_id", flat=True))) == 1
        assert mirror.version() == version + 1

        fastpix.finish_stream(sid)
        finished = settled()
        assert finished.status == "idle"
        assert finished.live_since is None
        assert len(finished.media_ids) == 1

        # The next broadcast's events are held, then delivered newest first: the oldest arrive last and
        # change nothing, so the stream ends up live, as FastPix says.
        emulator.webhook_chaos("hold", times=4, type_regex=r"^video\.live_stream\.")
        emulator.connect(sid)
        emulator.go_live(sid)
        assert emulator.release_held() == 4
        relived = settled()
        assert relived.status == "active"
        arrivals = list(
            ReceivedEvent.objects.filter(stream_id=sid, event_type__startswith="video.live_stream.")
            .order_by("-id")[:4]
            .values_list("event_type", "verdict")
        )
        assert arrivals == [  # newest first: the order they arrived in was the reverse of this
            ("video.live_stream.connected", "out_of_order"),
            ("video.live_stream.preparing", "out_of_order"),
            ("video.live_stream.active", "out_of_order"),
            ("video.live_stream.recording", "applied"),
        ]
        assert relived.last_event_type == "video.live_stream.recording"

        delivered = emulator.webhook_deliveries()
        assert delivered
        assert {entry["status"] for entry in delivered} == {200}
        assert not ReceivedEvent.objects.exclude(signature="valid").exists()
        assert (
            MirroredStream.objects.get(stream_id=sid).status == emulator.stream_state(sid)["stream"]["status"]
        )
    finally:
        emulator.clear_webhooks()


@pytest.mark.django_db(transaction=True)
def test_gunicorn_takes_a_chunked_delivery_and_caps_an_endless_one(
    emulator_server: Any, emulator: Any
) -> None:
    """Behind gunicorn a chunked body comes without a Content-Length: it is still read (and signed), and
    one that goes on past 1 MB is refused after reading at most the limit + 1."""
    stream = emulator.create_stream(status="idle")
    raw = body_of(event("video.live_stream.updated", stream))
    env = console_env(emulator_server, FASTPIX_WEBHOOK_SECRET=SECRET)

    def chunks(data: bytes, size: int = 100) -> Iterator[bytes]:
        for start in range(0, len(data), size):
            yield data[start : start + size]

    def endless() -> Iterator[bytes]:  # 8 MB: far past the limit, but finite should the server read on
        for _ in range(128):
            yield b" " * 65_536

    with running_consoles(env, count=1) as (base,), httpx.Client(base_url=base, timeout=30) as http:
        signature = {"FastPix-Signature": fastpix_signature(raw, SECRET)}
        taken = http.post(URL, content=chunks(raw), headers=signature)
        refused = http.post(URL, content=endless(), headers=signature)

    assert taken.status_code == 200, taken.text
    assert taken.json() == {"verdict": "applied"}
    assert refused.status_code == 413
    assert row_of(stream).status == "idle"
    assert list(ReceivedEvent.objects.order_by("id").values_list("verdict", "size")) == [
        ("applied", len(raw)),
        ("too_large", intake.MAX_BODY_BYTES + 1),
    ]


def test_text_a_database_cannot_hold_is_cleaned_before_storing_and_applying(
    client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(status="idle")
    payload = event("video.live_stream.updated", stream)
    payload["data"]["metadata"] = {"livestream_name": "Stage\u0000A \ud800"}

    raw = json.dumps(payload).encode("utf-8", "surrogatepass")
    response = post(client, raw)

    assert response.status_code == 200
    assert row_of(stream).metadata == {"livestream_name": "StageA \ufffd"}
    assert only_event().payload["data"]["metadata"] == {"livestream_name": "StageA \ufffd"}
