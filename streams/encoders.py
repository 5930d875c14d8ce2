"""What each encoder asks for, in its own words: OBS, vMix, ffmpeg, a mobile encoder and SRT.

Only people who may reveal ingest secrets see this (the detail page's connection card). The stream key
and the SRT passphrase are filled in only from an audited reveal (streams/views/detail.py reveal_secret);
otherwise the fields that need them say so, and the QR code of the full ingest URL is drawn only then.

Where the figures come from (FastPix's broadcasting guides, https://docs.fastpix.io/docs/start-live-stream-1
"Stream with RTMPS", https://docs.fastpix.io/docs/using-srt-to-live-stream "Stream with SRT" and
https://docs.fastpix.io/docs/get-started-with-live-streaming, give no encoder figures in the parts the search
could read, so these come from FastPix's own live-streaming demo apps, the settings FastPix broadcasts with):
- Bitrate per resolution: https://github.com/FastPix/fastpix-iOS-live-streaming-demo-application README
  "Streaming profiles" and https://github.com/FastPix/fastpix-android-live-streaming-demo-app
  LiveStreamActivity.kt `Preset`: 1080p 30 fps 5 Mbps, 720p 30 fps 3 Mbps, 540p 30 fps 2 Mbps,
  360p 30 fps 1 Mbps.
- Keyframe interval 2 s and audio AAC 128 kbps 48 kHz: the same Android app's `prepareVideo(…, 2, …)`
  (iFrameInterval, seconds) and `prepareAudio(128 * 1024, 48000, true)`.
- Ingest: RTMPS `rtmps://live.fastpix.com:443/live` + stream key (contract §6.1, FastPix's iOS demo README);
  SRT `srt://<FASTPIX_SRT_HOST>` (default live.fastpix.com:778) with the stream id as `streamid` (as this
  console has always shown it) and the stream's `srtSecret` as the passphrase
  (contract §2.1: "srtSecret: secret; SRT").
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from streams.client import LiveStream


@dataclass(frozen=True)
class Profile:
    """One of FastPix's broadcasting profiles (see the module's docstring for the source)."""

    height: int
    fps: int
    kbps: int

    @property
    def name(self) -> str:
        return f"{self.height}p"


PROFILES = (Profile(1080, 30, 5000), Profile(720, 30, 3000), Profile(540, 30, 2000), Profile(360, 30, 1000))
KEYFRAME_SECONDS = 2  # FastPix's Android demo app (see the module's docstring)
AUDIO = "AAC, 128 kbps, 48 kHz"
STREAM_KEY_VARIABLE = "$STREAM_KEY"  # stands in for the key in the ffmpeg line until it is revealed


@dataclass(frozen=True)
class Field:
    """One thing to type or pick in an encoder. `value` is empty while the secret it needs is hidden."""

    label: str
    value: str
    id: str
    needs: str = ""  # "stream_key" or "srt_secret": shown only after that secret's reveal
    multiline: bool = False


@dataclass(frozen=True)
class Encoder:
    key: str
    name: str
    where: str
    fields: tuple[Field, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Setup:
    encoders: tuple[Encoder, ...]
    profiles: tuple[Profile, ...]
    profile: Profile  # the one for this stream's maximum resolution
    max_resolution: str
    keyframe_seconds: int
    audio: str
    qr_svg: SafeString | None = None
    qr_seconds: int = 60


def profile_for(max_resolution: str) -> Profile:
    """The smallest FastPix profile at least as tall as the stream's maximum resolution (FastPix scales
    down to that maximum anyway); the largest when the maximum is unknown or above them all."""
    try:
        height = int(max_resolution.rstrip("p"))
    except ValueError:
        return PROFILES[0]
    tall_enough = [p for p in PROFILES if p.height >= height]
    return min(tall_enough, key=lambda p: p.height) if tall_enough else PROFILES[0]


def ingest_url(rtmps_url: str, stream_key: str) -> str:
    """What a mobile encoder takes in one field, and where ffmpeg sends: the server and the key joined."""
    return f"{rtmps_url.rstrip('/')}/{stream_key}"


def srt_server(stream_id: str) -> str:
    return f"srt://{settings.FASTPIX_SRT_HOST}?streamid={stream_id}"


def ffmpeg_command(target: str, profile: Profile) -> str:
    """A complete ffmpeg line: read the input in real time, H.264 at the profile's constant bitrate with a
    keyframe every KEYFRAME_SECONDS (no extra ones on scene cuts), AAC audio, FLV to the RTMPS URL."""
    gop = profile.fps * KEYFRAME_SECONDS
    return (
        "ffmpeg -re -i input.mp4 "
        f"-c:v libx264 -preset veryfast -profile:v high -pix_fmt yuv420p -vf scale=-2:{profile.height} "
        f"-r {profile.fps} -g {gop} -keyint_min {gop} -sc_threshold 0 "
        f"-b:v {profile.kbps}k -maxrate {profile.kbps}k -bufsize {profile.kbps * 2}k "
        "-c:a aac -b:a 128k -ar 48000 "
        f'-f flv "{target}"'
    )


def qr_svg(text: str, label: str) -> SafeString:
    """`text` as a QR code, inline SVG drawn here (no image request, nothing for the CSP to allow): dark on
    a white quiet zone so a phone reads it on the dark theme too; an image with a name for screen readers."""
    svg = segno.make(text, error="m", micro=False).svg_inline(
        scale=5, dark="#000", light="#fff", title=label, svgclass="qr-code", lineclass=None
    )
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308 - segno's SVG; the label is escaped


def setup(stream: LiveStream, revealed: dict[str, str]) -> Setup:
    """Every encoder's fields for this stream, with the secrets of this reveal (and only those) filled in."""
    key = revealed.get("stream_key", "")
    passphrase = revealed.get("srt_secret", "")
    server = settings.FASTPIX_RTMPS_URL
    full = ingest_url(server, key) if key else ""
    profile = profile_for(stream.max_resolution)
    srt = srt_server(stream.stream_id)
    encoders = (
        Encoder(
            "obs",
            "OBS Studio",
            "Settings → Stream",
            (
                Field("Service", "Custom…", "obs-service"),
                Field("Server", server, "obs-server"),
                Field("Stream Key", key, "obs-key", needs="stream_key"),
            ),
            (
                f"Settings → Output (Output Mode: Advanced): Rate Control CBR, Bitrate {profile.kbps} Kbps, "
                f"Keyframe Interval {KEYFRAME_SECONDS} s.",
            ),
        ),
        Encoder(
            "vmix",
            "vMix",
            "Stream → Streaming Settings",
            (
                Field("Destination", "Custom RTMP Server", "vmix-destination"),
                Field("URL", server, "vmix-url"),
                Field("Stream Name or Key", key, "vmix-key", needs="stream_key"),
            ),
            (f"Quality: H.264, {profile.kbps} kbps, keyframe every {KEYFRAME_SECONDS} s.",),
        ),
        Encoder(
            "ffmpeg",
            "ffmpeg",
            "A terminal",
            (
                Field(
                    "Command",
                    ffmpeg_command(full or ingest_url(server, STREAM_KEY_VARIABLE), profile),
                    "ffmpeg-command",
                    multiline=True,
                ),
            ),
            (
                "Replace input.mp4 with your source (a file, or a device such as -f v4l2 -i /dev/video0).",
                *(
                    ()
                    if key
                    else (
                        "The stream key is not in the command until you reveal it: reveal it above, or set "
                        "STREAM_KEY in your shell first.",
                    )
                ),
            ),
        ),
        Encoder(
            "mobile",
            "Mobile",
            "Your streaming app's connection settings (an RTMP or RTMPS app such as Larix Broadcaster)",
            (
                Field("Server URL", server, "mobile-server"),
                Field("Stream key", key, "mobile-key", needs="stream_key"),
                Field("Full URL (apps with one field)", full, "mobile-url", needs="stream_key"),
            ),
            (f"Video: {profile.name}, {profile.kbps} kbps, keyframe every {KEYFRAME_SECONDS} s.",),
        ),
        Encoder(
            "srt",
            "SRT",
            "Any SRT encoder (OBS: Service Custom…, Server the full SRT URL, Stream Key empty)",
            (
                Field("Server", srt, "srt-server"),
                Field("Stream ID", stream.stream_id, "srt-streamid"),
                Field("Passphrase", passphrase, "srt-passphrase", needs="srt_secret"),
                Field(
                    "Full SRT URL",
                    f"{srt}&passphrase={passphrase}" if passphrase else "",
                    "srt-full",
                    needs="srt_secret",
                ),
            ),
        ),
    )
    return Setup(
        encoders=encoders,
        profiles=PROFILES,
        profile=profile,
        max_resolution=stream.max_resolution,
        keyframe_seconds=KEYFRAME_SECONDS,
        audio=AUDIO,
        qr_svg=qr_svg(full, "QR code of the full ingest URL with the stream key") if full else None,
        qr_seconds=int(settings.QR_VISIBLE_SECONDS),
    )
