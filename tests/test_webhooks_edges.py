"""POST /webhooks/fastpix/ at its crossings: what a label that looks like a secret, a deletion that
overtakes its stream's first events, a delivery that stops halfway, a deleted recording's late events and
an impossible date each do to the intake and the mirror."""

from __future__ import annotations

import io
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from streams.models import MirroredStream, ReceivedEvent
from tests.consoles import console_env, running_consoles
from tests.test_webhooks import SECRET, URL, event, only_event, post, row_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = SECRET


# ---------------------------------------------------------------------------------------------- secrets


def test_a_metadata_label_named_like_a_secret_reaches_the_mirror_as_fastpix_says_it(
    client: Client, emulator: Any
) -> None:
    """Metadata is what a producer typed, shown and searched in the clear: "[redacted]" applied to the
    mirror would show (and search) something FastPix never said."""
    metadata = {"livestream_name": "Finals", "token": "Gate B guests", "Secret": "no"}
    stream = emulator.create_stream(status="idle", metadata=metadata)
    payload = event("video.live_stream.updated", stream)
    payload["data"]["metadata"]["streamKey"] = "pasted-key-0066"  # FastPix's own secret names still go
    payload["attempts"] = [{"token": "bearer-token-0077"}]

    assert post(client, payload).json() == {"verdict": "applied"}

    row = row_of(stream)
    assert row.metadata == {**metadata, "streamKey": "[redacted]"}
    assert "gate b guests" in row.search_text
    stored = only_event().payload
    assert stored is not None
    assert stored["data"]["metadata"] == {**metadata, "streamKey": "[redacted]"}
    assert stored["data"]["streamKey"] == "[redacted]"
    assert stored["attempts"] == [{"token": "[redacted]"}]


# ------------------------------------------------------------------------------------------ order


def test_a_deletion_that_overtakes_its_streams_first_events_keeps_them_out(
    client: Client, emulator: Any
) -> None:
    """FastPix retries a failed `created` while the `deleted` that followed goes out: the console hears of
    the stream first from its deletion. The late `created` must not bring the stream in."""
    stream = emulator.create_stream(status="idle")
    now = datetime.now(UTC)
    created = event("video.live_stream.created", stream, at=now - timedelta(seconds=2))
    deleted = {**event("video.live_stream.deleted", stream, at=now), "data": {}}

    assert post(client, deleted).status_code == 200
    assert post(client, created).json() == {"verdict": "out_of_order"}

    assert not MirroredStream.objects.filter(deleted_at=None).exists()
    row = row_of(stream)
    assert (row.status, row.deleted_at, row.last_event_id) == ("deleted", now, deleted["id"])
    late = ReceivedEvent.objects.get(event_id=created["id"])
    assert "deleted" in late.note
    assert ReceivedEvent.objects.get(event_id=deleted["id"]).verdict == "applied"


def test_a_deleted_recordings_late_events_do_not_bring_it_back(client: Client, emulator: Any) -> None:
    stream = emulator.create_stream(status="idle")
    media = emulator.create_media(stream["streamId"])
    now = datetime.now(UTC)
    post(client, event("video.live_stream.idle", stream, at=now - timedelta(seconds=4)))
    with_recording = {**stream, "mediaIds": [media["id"]]}

    def media_event(kind: str, at: datetime) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid4()),
            "type": f"video.media.{kind}",
            "object": {"type": "media", "id": media["id"]},
            "data": media,
            "createdAt": at.isoformat(),
        }

    assert post(client, media_event("created", now - timedelta(seconds=3))).json() == {"verdict": "applied"}
    assert post(client, media_event("deleted", now)).json() == {"verdict": "applied"}
    assert row_of(stream).media_ids == []
    # Late: the recording's `ready`, and a stream event from before the deletion that still lists it.
    late_ready = media_event("ready", now - timedelta(seconds=2))
    assert post(client, late_ready).json() == {"verdict": "out_of_order"}
    late_update = event("video.live_stream.updated", with_recording, at=now - timedelta(seconds=1))
    assert post(client, late_update).json() == {"verdict": "unchanged"}

    assert row_of(stream).media_ids == []
    assert "deleted" in ReceivedEvent.objects.get(event_id=late_ready["id"]).note


def test_an_event_dated_before_year_one_in_utc_is_ordered_by_its_receipt(
    client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(status="idle")
    payload = event("video.live_stream.updated", stream)
    payload["createdAt"] = "0001-01-01T00:00:00+05:00"  # parses, but has no UTC time the database holds

    response = post(client, payload)

    assert response.status_code == 200
    received = only_event()
    assert received.verdict == "applied"
    assert "No usable createdAt" in received.note
    assert row_of(stream).observed_at == received.occurred_at == received.received_at


def test_a_stream_created_before_year_one_in_utc_is_applied_without_its_date(
    client: Client, emulator: Any
) -> None:
    stream = emulator.create_stream(status="idle")
    payload = event("video.live_stream.updated", stream)
    payload["data"]["createdAt"] = "0001-01-01T00:00:00+05:00"

    assert post(client, payload).json() == {"verdict": "applied"}

    row = row_of(stream)
    assert (row.status, row.created_at) == ("idle", None)


# ------------------------------------------------------------------------------- bodies cut short


def test_a_body_whose_connection_breaks_while_it_is_read_is_answered_400_and_recorded(
    client: Client,
) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError("connection reset by peer")

    environ: dict[str, Any] = {"CONTENT_LENGTH": "120", "wsgi.input": Broken()}
    response = client.post(
        URL, data=b"", content_type="application/json", headers={"FastPix-Signature": "irrelevant"}, **environ
    )

    assert response.status_code == 400
    received = only_event()
    assert (received.verdict, received.signature, received.payload) == ("malformed", "not_checked", None)
    assert "did not arrive whole" in received.note


@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_a_chunked_delivery_cut_short_with_400_and_records_it(
    emulator_server: Any, emulator: Any
) -> None:
    """A chunked body whose sender stops mid-chunk: gunicorn raises while the view reads it."""
    env = console_env(emulator_server, FASTPIX_WEBHOOK_SECRET=SECRET)
    with running_consoles(env, count=1) as (base,):
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n".encode()
                + b"Content-Type: application/json\r\nFastPix-Signature: irrelevant\r\n\r\n"
                + b'40\r\n{"id":"evt_cut","type":"video.live_stream.updated"'  # 64 bytes announced
            )
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65_536):
                answer += chunk

    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    received = only_event()
    assert (received.verdict, received.signature, received.event_id) == ("malformed", "not_checked", "")
    assert "did not arrive whole" in received.note
    assert not MirroredStream.objects.exists()
