"""A stream's page is rendered from the mirror while FastPix answers the page's read, and that rendering is
used only when the read says exactly what the mirror holds (secrets aside: the page shows none). A mirror
a moment behind FastPix never shows on the page."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams.client import LiveStream, get_client, without_secrets
from streams.models import MirroredStream
from streams.workspace import mirror

pytestmark = pytest.mark.django_db


def read(emulator: EmulatorControl, **fields: object) -> LiveStream:
    return get_client().get_stream(emulator.create_stream(**fields)["streamId"])


def pages_rendered(response: Any) -> int:
    """How many times the request rendered the stream's page (the test client records every template)."""
    return sum(1 for template in response.templates if template.name == "streams/detail.html")


def test_a_row_holds_everything_a_read_shows_but_its_secrets(emulator: EmulatorControl) -> None:
    stream = read(
        emulator,
        status="active",
        metadata={"livestream_name": "Keynote", "room": "A"},
        reconnectWindow=120,
        lowLatency=True,
    )
    client = get_client()
    client.create_playback_id(stream.stream_id, access_policy="private")
    emulator.create_media(stream.stream_id)
    stream = client.get_stream(stream.stream_id)
    assert stream.stream_key
    assert stream.srt_secret
    assert stream.srt_playback_stream_id
    assert stream.media_ids
    assert len(stream.playback_ids) == 2

    mirror.observe(stream, timezone.now())
    row = MirroredStream.objects.get(stream_id=stream.stream_id)

    assert mirror.as_stream(row) == without_secrets(stream)
    assert mirror.holds(row, stream)
    held = mirror.as_stream(row)
    assert (held.stream_key, held.srt_secret, held.srt_playback_secret) == ("", "", "")
    assert stream.stream_key not in str(row.settings)
    assert stream.srt_secret not in str(row.settings)


def test_simulcast_targets_are_held_with_their_metadata_and_without_their_keys(
    emulator: EmulatorControl, emulator_server: Any
) -> None:
    stream = read(emulator, metadata={"livestream_name": "Relay"})
    created = httpx.post(
        f"{emulator_server.api_base}/live/streams/{stream.stream_id}/simulcast",
        json={"url": "rtmp://relay.example/live", "streamKey": "third-party-key", "metadata": {"to": "yt"}},
        auth=(emulator_server.token_id, emulator_server.secret),
    )
    assert created.status_code == 201
    stream = get_client().get_stream(stream.stream_id)
    mirror.observe(stream, timezone.now())
    row = MirroredStream.objects.get(stream_id=stream.stream_id)

    assert mirror.as_stream(row) == without_secrets(stream)
    assert mirror.as_stream(row).simulcasts[0].metadata == {"to": "yt"}
    assert "third-party-key" not in str(row.settings)


def test_a_row_written_before_the_mirror_kept_the_srt_playback_id_is_rewritten_by_the_next_read(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = read(emulator, metadata={"livestream_name": "Older row"})
    mirror.observe(stream, timezone.now() - timedelta(seconds=5))
    row = MirroredStream.objects.get(stream_id=stream.stream_id)
    row.settings = {k: v for k, v in row.settings.items() if k != "srt_playback_stream_id"}
    row.save()
    assert not mirror.holds(row, stream)

    assert admin_client.get(f"/streams/{stream.stream_id}/").status_code == 200

    assert mirror.holds(MirroredStream.objects.get(stream_id=stream.stream_id), stream)


def test_the_page_shows_the_read_when_the_mirror_is_behind_fastpix(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = read(emulator, status="active", metadata={"livestream_name": "Final name"}, reconnectWindow=300)
    behind = dataclasses.replace(
        stream, status="idle", metadata={"livestream_name": "Draft name"}, reconnect_window=30
    )
    mirror.observe(behind, timezone.now() - timedelta(seconds=5))

    response = admin_client.get(f"/streams/{stream.stream_id}/")
    page = response.content.decode()

    assert pages_rendered(response) == 2  # the mirror's rendering was set aside for the read's
    assert "Final name" in page
    assert "Draft name" not in page
    assert "300 s" in page
    assert "30 s" not in page
    assert '<span id="stream-status"><span class="badge badge-active">' in page
    row = MirroredStream.objects.get(stream_id=stream.stream_id)
    assert (row.name, row.status, row.settings["reconnect_window"]) == ("Final name", "active", 300)


def test_when_the_mirror_holds_the_read_the_page_writes_nothing_and_shows_it(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = read(emulator, metadata={"livestream_name": "Steady"}, reconnectWindow=90)
    mirror.observe(stream, timezone.now() - timedelta(seconds=5))
    before = MirroredStream.objects.get(stream_id=stream.stream_id)
    emulator.clear_requests()

    response = admin_client.get(f"/streams/{stream.stream_id}/")
    page = response.content.decode()

    assert pages_rendered(response) == 1  # the page rendered from the mirror while FastPix answered
    assert "Steady" in page
    assert "90 s" in page
    assert [entry["method"] for entry in emulator.requests()] == ["GET"]
    after = MirroredStream.objects.get(stream_id=stream.stream_id)
    assert (after.revision, after.synced_at, after.observed_at) == (
        before.revision,
        before.synced_at,
        before.observed_at,
    )
