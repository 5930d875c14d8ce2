"""The stand-ins for FastPix's stream host and player (emulator/playback.py): live manifests that follow
the stream's state, a recording's finished playlist, segments, and the labelled player page."""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator.playback import SEGMENT, _crc32_mpeg
from emulator.testing import EmulatorControl, EmulatorServer


@pytest.fixture(scope="module")
def host(emulator_server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_server.base_url, timeout=10) as client:
        yield client


def playback_id(stream: dict[str, Any]) -> str:
    return str(stream["playbackIds"][0]["id"])


def segments(body: str) -> list[str]:
    return [line for line in body.splitlines() if line and not line.startswith("#")]


def test_an_active_stream_has_a_live_playlist_with_segments_that_load(
    host: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="active", liveSeconds=30)

    response = host.get(f"/stream/{playback_id(stream)}.m3u8")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    body = response.text
    assert body.startswith("#EXTM3U\n")
    assert body.count("#EXTINF:2.000,") == 3
    assert "#EXT-X-ENDLIST" not in body  # live: the playlist keeps growing
    assert "#EXT-X-MEDIA-SEQUENCE:13" in body  # 30 s live: the newest segment is the 15th
    assert segments(body) == ["13.ts", "14.ts", "15.ts"]
    segment = host.get(f"/stream/{playback_id(stream)}/{segments(body)[0]}")
    assert segment.status_code == 200
    assert segment.headers["content-type"] == "video/mp2t"
    assert segment.content == SEGMENT


def test_a_segment_is_valid_mpeg_ts_with_program_tables() -> None:
    assert len(SEGMENT) % 188 == 0
    packets = [SEGMENT[i : i + 188] for i in range(0, len(SEGMENT), 188)]
    assert all(packet[0] == 0x47 for packet in packets)
    pids = [struct.unpack(">H", packet[1:3])[0] & 0x1FFF for packet in packets]
    assert pids[:2] == [0, 0x1000]  # the program association table, then the program map
    for packet in packets[:2]:
        length = struct.unpack(">H", packet[6:8])[0] & 0x0FFF
        section = packet[5 : 8 + length]
        assert _crc32_mpeg(section) == 0  # a section with its CRC appended checks to zero


def test_a_preparing_stream_has_an_empty_playlist_and_an_idle_one_none(
    host: httpx.Client, control: EmulatorControl
) -> None:
    preparing = control.create_stream(status="preparing")
    idle = control.create_stream(status="idle")

    empty = host.get(f"/stream/{playback_id(preparing)}.m3u8")
    assert empty.status_code == 200
    assert empty.text.startswith("#EXTM3U")
    assert "#EXTINF" not in empty.text

    assert host.get(f"/stream/{playback_id(idle)}.m3u8").status_code == 404
    assert host.get("/stream/00000000-0000-4000-8000-000000000000.m3u8").status_code == 404


def test_the_playlist_follows_the_stream_from_connect_to_live_to_drop_to_idle(
    host: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="idle")
    url = f"/stream/{playback_id(stream)}.m3u8"
    assert host.get(url).status_code == 404
    control.connect(stream["streamId"])
    assert "#EXTINF" not in host.get(url).text
    control.go_live(stream["streamId"])
    assert host.get(url).text.count("#EXTINF") == 3
    control.disconnect(stream["streamId"])
    assert "#EXTINF" not in host.get(url).text  # the encoder left: nothing new to play
    ended = control.create_stream(status="active")
    control.disconnect(ended["streamId"], expire=True)  # the reconnect window ran out: idle
    assert host.get(f"/stream/{playback_id(ended)}.m3u8").status_code == 404


def test_a_private_playback_id_needs_a_signed_token(host: httpx.Client, control: EmulatorControl) -> None:
    stream = control.create_stream(status="active", accessPolicy="private")

    assert host.get(f"/stream/{playback_id(stream)}.m3u8").status_code == 403
    assert host.get(f"/stream/{playback_id(stream)}/0.ts").status_code == 404
    page = host.get("/player/", params={"playbackId": playback_id(stream)})
    assert page.status_code == 403
    assert "needs a signed token" in page.text


def test_a_ready_recording_has_a_finished_playlist_of_its_length(
    host: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="idle")
    media = control.create_media(stream["streamId"], duration_seconds=5.0)

    response = host.get(f"/stream/{media['playbackIds'][0]['id']}.m3u8")

    assert response.status_code == 200
    assert re.findall(r"#EXTINF:([\d.]+),", response.text) == ["2.000", "2.000", "1.000"]
    assert response.text.rstrip().endswith("#EXT-X-ENDLIST")


def test_faults_apply_to_the_stream_host_too(host: httpx.Client, control: EmulatorControl) -> None:
    stream = control.create_stream(status="active")
    url = f"/stream/{playback_id(stream)}.m3u8"
    control.add_fault(r"^/stream/", raw_body="<html>oops</html>", content_type="text/html")
    junk = host.get(url)
    assert (junk.status_code, junk.text) == (200, "<html>oops</html>")
    control.add_fault(r"^/stream/", status=503)
    assert host.get(url).status_code == 503
    control.add_fault(r"^/stream/", latency_ms=300)
    with pytest.raises(httpx.ReadTimeout):
        host.get(url, timeout=0.1)
    assert host.get(url).status_code == 200  # each fault used up once


def test_the_player_page_is_labelled_and_plays_its_own_live_manifest(
    host: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="active")

    page = host.get("/player/", params={"playbackId": playback_id(stream)})

    assert page.status_code == 200
    assert "Emulated player — not FastPix" in page.text
    src = f"/stream/{playback_id(stream)}.m3u8"
    assert f'<video data-manifest="{src}" src="{src}"' in page.text
    assert "Live: 3 segments in the playlist." in page.text
    assert '<script src="player.js" defer></script>' in page.text  # its own script, nothing external
    assert "http" not in page.text.split("<main>")[0].replace("http-equiv", "")
    assert host.get("/player/player.js").headers["content-type"].startswith("text/javascript")
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_the_player_shows_a_recordings_test_pattern_and_says_when_nothing_matches(
    host: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="idle")
    media = control.create_media(stream["streamId"], duration_seconds=75.0)

    page = host.get("/player/", params={"playbackId": media["playbackIds"][0]["id"]})
    assert page.status_code == 200
    assert 'aria-label="Test pattern: colour bars"' in page.text
    assert "Recording · 1:15 · test pattern" in page.text

    missing = host.get("/player/", params={"playbackId": "nope"})
    assert missing.status_code == 404
    assert "Emulated player — not FastPix" in missing.text
