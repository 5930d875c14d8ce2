"""Stand-ins for FastPix's stream host and player (emulator-only, not FastPix; contract §6.1).

* `GET /stream/{playbackId}.m3u8`: what `https://stream.fastpix.com/{playbackId}.m3u8` would answer. A live
  stream's public playback id: a live HLS media playlist of three 2-second segments that slides with the
  clock while the stream is active and its encoder connected; an empty playlist (no segments) while it is
  preparing or its encoder has dropped; 404 once it is idle or disabled, and for an unknown id. A
  recording's public playback id: a finished (VOD) playlist of its test pattern. A private id: 403, since
  it needs a signed token.
* `GET /stream/{playbackId}/{n}.ts`: a segment. A small valid MPEG-TS (program tables and padding, no
  picture): enough for a manifest check or a player's request, not a picture.
* `GET /player/?playbackId=…`: what `https://play.fastpix.com/?playbackId=…` would show, labelled
  "Emulated player — not FastPix": a `<video>` of its own live manifest where the browser plays HLS
  natively, else the manifest's state as text; a recording's test pattern (colour bars) for a media id.

Faults added through the control API (`/_emulator/faults`) apply here too, so a test can make a manifest
hang (`latency_ms`, `timeout`), fail (`status`) or come back as junk (`raw_body`).
"""

from __future__ import annotations

import asyncio
import html
import math
import struct
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.faults import Fault
from emulator.runtime import Emulator
from emulator.state import State

SEGMENT_SECONDS = 2
LIVE_WINDOW = 3  # segments in a live playlist
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
LABEL = "Emulated player — not FastPix"


@dataclass(frozen=True)
class Owner:
    """What a playback id belongs to, as the stream host sees it."""

    kind: str  # "live" or "media"
    access_policy: str
    status: str  # the stream's status, or the media's ("Ready", "Processing", …)
    encoder_connected: bool = False
    active_since: datetime | None = None
    duration_seconds: float = 0.0


def find(state: State, playback_id: str) -> Owner | None:
    """The stream or recording that owns `playback_id`, after any due transition (a reconnect window
    running out). The state offers no lookup by playback id, so this reads it under its own lock."""
    state.settle()
    with state._lock:
        for stream in state._streams.values():
            for playback in stream.playback_ids:
                if playback.id == playback_id:
                    return Owner(
                        "live",
                        playback.access_policy,
                        stream.status,
                        stream.encoder_connected and stream.disconnected_at is None,
                        stream.active_since,
                    )
        for media in state._media.values():
            if media.playback_id.id == playback_id:
                return Owner(
                    "media",
                    media.playback_id.access_policy,
                    media.status,
                    False,
                    None,
                    media.duration_seconds,
                )
    return None


# ------------------------------------------------------------------------------------------ playlists


def _playlist(first: int, count: int, *, ended: bool, durations: list[float] | None = None) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
    ]
    if ended:
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    for index in range(count):
        seconds = durations[index] if durations else float(SEGMENT_SECONDS)
        lines += [f"#EXTINF:{seconds:.3f},", f"{first + index}.ts"]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def manifest(owner: Owner | None, now: datetime) -> tuple[int, str]:
    """The status and body the stream host answers for a playback id's `.m3u8`."""
    if owner is None:
        return 404, "no such playback ID\n"
    if owner.access_policy != "public":
        return 403, "a signed token is required for this playback ID\n"
    if owner.kind == "media":
        if owner.status != "Ready":
            return 404, "the recording is not ready\n"
        whole, rest = divmod(owner.duration_seconds, SEGMENT_SECONDS)
        durations = [float(SEGMENT_SECONDS)] * int(whole) + ([rest] if rest > 0.001 else [])
        durations = durations or [float(SEGMENT_SECONDS)]
        return 200, _playlist(0, len(durations), ended=True, durations=durations)
    if owner.status == "active" and owner.encoder_connected:
        live = (now - owner.active_since).total_seconds() if owner.active_since else 0.0
        newest = max(int(live // SEGMENT_SECONDS), LIVE_WINDOW - 1)
        return 200, _playlist(newest - LIVE_WINDOW + 1, LIVE_WINDOW, ended=False)
    if owner.status in ("preparing", "active"):
        return 200, _playlist(0, 0, ended=False)  # the encoder is (re)connecting: nothing to play yet
    return 404, "the stream is not live\n"


# ------------------------------------------------------------------------------------------- segments


def _crc32_mpeg(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _packet(pid: int, payload: bytes, *, start: bool) -> bytes:
    header = struct.pack(">BHB", 0x47, (0x4000 if start else 0) | pid, 0x10)
    return (header + payload).ljust(188, b"\xff")


def _section(body: bytes) -> bytes:
    return b"\x00" + body + struct.pack(">I", _crc32_mpeg(body))  # pointer field, section, CRC


PMT_PID, VIDEO_PID = 0x1000, 0x100
# Program association: program 1 → PMT_PID. Program map: one H.264 stream on VIDEO_PID (also the PCR).
_PAT = _section(
    bytes([0x00, 0xB0, 13, 0x00, 0x01, 0xC1, 0, 0, 0x00, 0x01]) + struct.pack(">H", 0xE000 | PMT_PID)
)
_PMT = _section(
    bytes([0x02, 0xB0, 18, 0x00, 0x01, 0xC1, 0, 0])
    + struct.pack(">HH", 0xE000 | VIDEO_PID, 0xF000)
    + bytes([0x1B])
    + struct.pack(">HH", 0xE000 | VIDEO_PID, 0xF000)
)
SEGMENT = (
    _packet(0, _PAT, start=True) + _packet(PMT_PID, _PMT, start=True) + _packet(0x1FFF, b"", start=False) * 4
)


# --------------------------------------------------------------------------------------- player page

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{label}</title>
<link rel="stylesheet" href="player.css">
<script src="player.js" defer></script>
</head>
<body>
<main>
<p class="label"><strong>{label}</strong></p>
{content}
</main>
</body>
</html>
"""

_CSS = """body{margin:0;background:#111;color:#eee;font:16px/1.4 system-ui,sans-serif}
main{padding:.75rem}.label{margin:0 0 .5rem;color:#fc6}video,svg{display:block;width:100%;max-height:80vh;
background:#000}.state{margin:.5rem 0 0}[hidden]{display:none}
"""

# Without native HLS (most desktop browsers), the page says what the manifest holds, every 2 s.
_JS = """(function () {
  var video = document.querySelector("video[data-manifest]");
  var state = document.getElementById("state");
  if (!video || !state) return;
  if (video.canPlayType("application/vnd.apple.mpegurl")) return;
  video.hidden = true;
  function look() {
    fetch(video.getAttribute("data-manifest"), {cache: "no-store"}).then(function (response) {
      if (response.status === 404) { state.textContent = "Not live: the stream host has no playlist (404)."; return; }
      if (!response.ok) { state.textContent = "The stream host answered " + response.status + "."; return; }
      return response.text().then(function (body) {
        var segments = (body.match(/^#EXTINF/mg) || []).length;
        state.textContent = segments
          ? "Live: " + segments + " segments in the playlist (this browser does not play HLS by itself)."
          : "Waiting for the encoder: the playlist has no segments yet.";
      });
    }).catch(function () { state.textContent = "The stream host did not answer."; });
  }
  look();
  setInterval(look, 2000);
})();
"""

_BARS = ("#c0c0c0", "#c0c000", "#00c0c0", "#00c000", "#c000c0", "#c00000", "#0000c0")


def _test_pattern(caption: str) -> str:
    bars = "".join(
        f'<rect x="{index * 160}" y="0" width="160" height="540" fill="{colour}"/>'
        for index, colour in enumerate(_BARS)
    )
    return (
        '<svg viewBox="0 0 1120 630" role="img" aria-label="Test pattern: colour bars">'
        f'{bars}<rect x="0" y="540" width="1120" height="90" fill="#111"/>'
        f'<text x="560" y="597" fill="#eee" font-size="40" text-anchor="middle">{html.escape(caption)}</text>'
        "</svg>"
    )


def _state_text(status: int, body: str) -> str:
    if status == 404:
        return "Not live: the stream host has no playlist (404)."
    segments = body.count("#EXTINF")
    if segments:
        return f"Live: {segments} segments in the playlist."
    return "Waiting for the encoder: the playlist has no segments yet."


def player_page(playback_id: str, owner: Owner | None, now: datetime) -> tuple[int, str]:
    if owner is None:
        content = "<p>No stream or recording of the emulator has this playback ID.</p>"
        return 404, _PAGE.format(label=LABEL, content=content)
    if owner.access_policy != "public":
        content = "<p>This playback ID is private: playing it needs a signed token.</p>"
        return 403, _PAGE.format(label=LABEL, content=content)
    if owner.kind == "media":
        minutes, seconds = divmod(math.ceil(owner.duration_seconds), 60)
        caption = f"Recording · {minutes}:{seconds:02d} · test pattern"
        if owner.status != "Ready":
            caption = f"Recording {owner.status.lower()}: not ready to play yet"
        return 200, _PAGE.format(label=LABEL, content=_test_pattern(caption))
    src = f"/stream/{html.escape(playback_id)}.m3u8"
    status, body = manifest(owner, now)
    content = (
        f'<video data-manifest="{src}" src="{src}" controls autoplay muted playsinline '
        f'aria-label="Live stream {html.escape(playback_id)}"></video>\n'
        f'<p class="state" id="state" role="status">{_state_text(status, body)}</p>'
    )
    return 200, _PAGE.format(label=LABEL, content=content)


# ----------------------------------------------------------------------------------------------- routes


async def _fault(fault: Fault | None, request: Request) -> Response | None:
    """An injected fault's latency, hang, error or raw body, as the gateway applies them to /v1."""
    if fault is None:
        return None
    if fault.latency_ms > 0:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.timeout:
        await asyncio.sleep(fault.hang_seconds)
        return Response("gateway timeout\n", status_code=504, media_type="text/plain")
    if fault.raw_body is not None:
        return Response(
            fault.raw_body, status_code=fault.status or 200, headers={"Content-Type": fault.content_type}
        )
    if fault.status is not None:
        return Response(f"error {fault.status}\n", status_code=fault.status, media_type="text/plain")
    return None


_NO_CACHE = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; media-src 'self' blob:; img-src 'self' data:",
}


def routes(emu: Emulator) -> list[BaseRoute]:
    state = emu.state

    async def playlist(request: Request) -> Response:
        failed = await _fault(emu.faults.take(request.method, request.url.path), request)
        if failed is not None:
            return failed
        status, body = manifest(find(state, request.path_params["playback_id"]), state.now())
        media_type = PLAYLIST_TYPE if status == 200 else "text/plain"
        return Response(body, status_code=status, media_type=media_type, headers=_NO_CACHE)

    async def segment(request: Request) -> Response:
        failed = await _fault(emu.faults.take(request.method, request.url.path), request)
        if failed is not None:
            return failed
        owner = find(state, request.path_params["playback_id"])
        if owner is None or owner.access_policy != "public":
            return Response("no such segment\n", status_code=404, media_type="text/plain")
        return Response(SEGMENT, media_type="video/mp2t", headers=_NO_CACHE)

    async def player(request: Request) -> Response:
        playback_id = request.query_params.get("playbackId", "")
        status, page = player_page(
            playback_id, find(state, playback_id) if playback_id else None, state.now()
        )
        return Response(page, status_code=status, media_type="text/html", headers=_PAGE_HEADERS)

    async def script(request: Request) -> Response:
        return Response(_JS, media_type="text/javascript", headers={"Cache-Control": "no-store"})

    async def stylesheet(request: Request) -> Response:
        return Response(_CSS, media_type="text/css", headers={"Cache-Control": "no-store"})

    return [
        Route("/stream/{playback_id}.m3u8", playlist, methods=["GET"]),
        Route("/stream/{playback_id}/{sequence:int}.ts", segment, methods=["GET"]),
        Route("/player/", player, methods=["GET"]),
        Route("/player/player.js", script, methods=["GET"]),
        Route("/player/player.css", stylesheet, methods=["GET"]),
    ]
