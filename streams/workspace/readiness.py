"""Readiness lights: is the encoder connected, is the stream live, and can a viewer play it?

The worker's `readiness` job judges every preparing or live stream of the mirror once per period
(VIEWER_COUNT_TTL) and writes a `Readiness` row per stream. *Encoder* and *Live* come from the mirror
(the status, and whether the encoder left); *Playable* from fetching the stream's public HLS manifest,
`{FASTPIX_STREAM_URL}/{playback id}.m3u8`, on the server: green only for a playlist with segments (or a
master playlist whose first variant, on the same host, has them). A redirect to another host is never
followed; a hang, an error or junk says "unknown" with the reason, never green. A stream whose playback
ids are all private says "needs a signed token" instead of a false red.

Probes are spread over the period (probe i starts at i × period / n, the longest unprobed first, but never
sooner than a period after the stream's last probe), a few at a time on the lane's own threads, so the job
never delays the sampler (its own lane), probes every stream each round (rounds run back to back) and never
asks the stream host twice in a period. They cost no FastPix API call (the stream host is not the API), so they do not take the API's
rate-limit slots. Each change of a light (or of the reason shown beside it) bumps the workspace version
in the same transaction, so every open page's poll renders it; a probe that changes nothing writes only
its `probed_at`.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from streams.models import MirroredStream, Readiness
from streams.workspace import mirror
from streams.workspace.pacing import Context, Interrupted

logger = logging.getLogger("streams.workspace.readiness")

Light = Readiness.Light
LIVE_STATUSES = ("preparing", "active")  # the statuses whose streams are judged and probed
MAX_MANIFEST_BYTES = 256 * 1024  # a playlist is a few KB; more than this is not one
USER_AGENT = "fastpix-console-readiness"


@dataclass(frozen=True)
class Verdict:
    """What one probe found: the Playable light and why."""

    light: str
    reason: str = ""


PRIVATE = Verdict(Light.PRIVATE, "needs a signed token")
NO_PLAYBACK_ID = Verdict(Light.UNKNOWN, "unknown: the stream has no playback ID")
NOT_LIVE = Verdict(Light.OFF, "")


class _Refused(Exception):
    """The manifest could not be judged; the message is the reason shown."""


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _fetch(http: httpx.Client, url: str, deadline: float) -> tuple[int, str]:
    """GET `url` (following one redirect to the same host); the status and up to MAX_MANIFEST_BYTES of
    body. A redirect elsewhere, a slow drip past the deadline or an oversized body: `_Refused`."""
    for hop in range(2):
        with http.stream("GET", url) as response:
            if response.is_redirect:
                target = urljoin(url, response.headers.get("location", ""))
                if _origin(target) != _origin(url):
                    # Only the host: a signed URL's token must not end up in a page.
                    raise _Refused(f"unknown: redirected to {urlsplit(target).netloc or target}")
                if hop:
                    raise _Refused("unknown: redirected more than once")
                url = target
                continue
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_MANIFEST_BYTES:
                    raise _Refused("unknown: the answer is too large to be a playlist")
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the playlist arrived too slowly")
            return response.status_code, body.decode("utf-8", errors="replace")
    raise _Refused("unknown: redirected more than once")  # not reached: the loop returns or raises


def _lines(playlist: str) -> list[str]:
    return [line.strip() for line in playlist.lstrip("\ufeff").splitlines() if line.strip()]


def _first_variant(lines: list[str]) -> str | None:
    """A master playlist's first variant URI: the first URI line after an #EXT-X-STREAM-INF tag."""
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            for following in lines[index + 1 :]:
                if not following.startswith("#"):
                    return following
    return None


def _judge_playlist(http: httpx.Client, url: str, deadline: float, *, variant: bool = False) -> Verdict:
    status, body = _fetch(http, url, deadline)
    if status == 404:
        return Verdict(Light.OFF, "not playing yet")
    if status in (401, 403):
        return Verdict(Light.UNKNOWN, f"unknown: the stream host refused it ({status})")
    if status != 200:
        return Verdict(Light.UNKNOWN, f"unknown: the stream host answered {status}")
    lines = _lines(body)
    if not lines or lines[0] != "#EXTM3U":
        return Verdict(Light.UNKNOWN, "unknown: the answer is not an HLS playlist")
    if any(line.startswith("#EXTINF") for line in lines):
        return Verdict(Light.ON, "")
    uri = None if variant else _first_variant(lines)
    if uri is None:
        return Verdict(Light.OFF, "no segments yet")
    target = urljoin(url, uri)
    if _origin(target) != _origin(url):
        return Verdict(Light.UNKNOWN, f"unknown: its variant is on another host ({urlsplit(target).netloc})")
    return _judge_playlist(http, target, deadline, variant=True)


def probe(http: httpx.Client, playback_id: str) -> Verdict:
    """Fetch and judge one public playback id's live manifest. Never raises: every failure is a reason."""
    timeout = float(settings.PROBE_TIMEOUT_SECONDS)
    url = f"{settings.FASTPIX_STREAM_URL}/{playback_id}.m3u8"
    try:
        return _judge_playlist(http, url, time.monotonic() + timeout)
    except _Refused as exc:
        return Verdict(Light.UNKNOWN, str(exc))
    except httpx.TimeoutException:
        return Verdict(Light.UNKNOWN, f"unknown: no answer within {timeout:g} s")
    except httpx.TransportError as exc:
        return Verdict(Light.UNKNOWN, f"unknown: could not reach the stream host ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return Verdict(Light.UNKNOWN, f"unknown: {type(exc).__name__}")


def probe_client() -> httpx.Client:
    """One round's HTTP client: never follows redirects by itself, short timeouts, a few connections."""
    timeout = float(settings.PROBE_TIMEOUT_SECONDS)
    return httpx.Client(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        headers={"User-Agent": USER_AGENT},
    )


def public_playback_id(stream_settings: Mapping[str, Any]) -> str | Verdict:
    """The playback id to probe; PRIVATE when every id is private; NO_PLAYBACK_ID when there is none."""
    ids = stream_settings.get("playback_ids") or []
    for playback in ids:
        if playback.get("access_policy") == "public" and playback.get("id"):
            return str(playback["id"])
    return PRIVATE if ids else NO_PLAYBACK_ID


# ------------------------------------------------------------------------------------- writing lights


def _set(row: Readiness, name: str, value: str, now: datetime) -> bool:
    """Set one light; its `*_changed_at` moves only when its value does (or was never set)."""
    if getattr(row, name) == value and getattr(row, f"{name}_changed_at") is not None:
        return False
    setattr(row, name, value)
    setattr(row, f"{name}_changed_at", now)
    return True


def _status_lights(status: str, disconnected_at: datetime | None) -> tuple[str, str]:
    encoder = Light.ON if status in LIVE_STATUSES and disconnected_at is None else Light.OFF
    live = Light.ON if status == "active" else Light.OFF
    return encoder, live


def settle_statuses(streams: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """Encoder and Live of every preparing or live stream from the mirror; every other stream's lights
    off (it stops being probed). One transaction; the streams whose lights moved are touched (their pages
    and the wall render again). Returns (changed, ended)."""
    now = timezone.now()
    live = {s["stream_id"]: s for s in streams}
    changed = ended = 0
    moved_ids: list[str] = []
    with transaction.atomic():
        # The live streams' rows, and any other not yet all off (a stream that ended since the last round):
        # rows of long-finished streams are never read again.
        all_off = Q(encoder=Light.OFF, live=Light.OFF, playable=Light.OFF, playable_reason="")
        wanted = Readiness.objects.select_for_update().filter(Q(stream_id__in=list(live)) | ~all_off)
        rows = {row.stream_id: row for row in wanted}
        for stream_id, stream in live.items():
            row = rows.get(stream_id) or Readiness(stream_id=stream_id)
            encoder, on_air = _status_lights(stream["status"], stream["disconnected_at"])
            moved = _set(row, "encoder", encoder, now) | _set(row, "live", on_air, now)
            if row.playable_changed_at is None:  # a new row: judged from now on
                row.playable_reason = "not checked yet"
                row.playable_changed_at = now
                moved = True
            if moved:
                row.save()
                changed += 1
                moved_ids.append(stream_id)
        for stream_id, row in rows.items():
            if stream_id in live:
                continue
            lights = (row.encoder, row.live, row.playable, row.playable_reason)
            if lights == (Light.OFF, Light.OFF, Light.OFF, ""):
                continue
            for name in ("encoder", "live", "playable"):
                _set(row, name, Light.OFF, now)
            row.playable_reason = ""
            row.save()
            ended += 1
            moved_ids.append(stream_id)
        mirror.touch(moved_ids)
    return changed, ended


def record(verdicts: Mapping[str, tuple[Verdict, datetime]]) -> int:
    """Probe results: the Playable light (and its reason) of each stream still preparing or live, and
    when it was probed. A change bumps the version in the same transaction. Returns how many changed."""
    if not verdicts:
        return 0
    now = timezone.now()
    changed = 0
    moved_ids: list[str] = []
    with transaction.atomic():
        still_live = set(
            MirroredStream.objects.filter(
                stream_id__in=list(verdicts), status__in=LIVE_STATUSES, deleted_at=None
            ).values_list("stream_id", flat=True)
        )
        rows = Readiness.objects.select_for_update().filter(stream_id__in=list(still_live))
        for row in rows:
            verdict, probed_at = verdicts[row.stream_id]
            moved = _set(row, "playable", verdict.light, now)
            if row.playable_reason != verdict.reason:
                row.playable_reason = verdict.reason
                moved = True
            row.probed_at = probed_at
            row.save()
            if moved:
                changed += 1
                moved_ids.append(row.stream_id)
        mirror.touch(moved_ids)
    return changed


# ------------------------------------------------------------------------------------------- the job


def judge(ctx: Context, period: float) -> dict[str, Any]:
    """One round: the status lights of every stream at once, then one probe per preparing or live stream,
    spread over `period` seconds (see `_probe_round`)."""
    streams = list(
        MirroredStream.objects.filter(deleted_at=None, status__in=LIVE_STATUSES).values(
            "stream_id", "status", "disconnected_at", "settings"
        )
    )
    changed, ended = settle_statuses(streams)
    last_probe = dict(
        Readiness.objects.filter(stream_id__in=[s["stream_id"] for s in streams], probed_at__isnull=False)
        .values_list("stream_id", "probed_at")
        .iterator()
    )
    due: list[tuple[str, str, datetime | None]] = []  # (stream id, playback id, its last probe)
    fixed: dict[str, tuple[Verdict, datetime]] = {}  # no probe needed: private, or no playback id
    for stream in streams:
        target = public_playback_id(stream["settings"] or {})
        if isinstance(target, Verdict):
            fixed[stream["stream_id"]] = (target, timezone.now())
        else:
            due.append((stream["stream_id"], target, last_probe.get(stream["stream_id"])))
    changed += record(fixed)
    detail: dict[str, Any] = {"streams": len(streams), "ended": ended}
    if not due:
        detail.update(probed=0, changed=changed)
        return detail
    results, counts = _probe_round(ctx, due, period)
    detail.update(probed=len(results), changed=changed + counts["changed"], **counts["lights"])
    return detail


def _schedule(
    due: list[tuple[str, str, datetime | None]], period: float, began: float
) -> list[tuple[float, str, str]]:
    """When each probe starts (monotonic), in order: the streams probed longest ago (or never) first, one
    every period / n, but none sooner than a period after its own last probe, so that rounds run back to
    back probe each stream once a round whatever its place in the last one (a stream that ended moves the
    others up), and a round started early (a worker taking over) still never asks twice in a period.
    A last probe of a round before this one is at most a period before its start: every probe starts
    within the round's period."""
    now = timezone.now()
    spacing = period / len(due)
    ordered = sorted(due, key=lambda d: (d[2] is not None, d[2] or now))
    plan = []
    for index, (stream_id, playback_id, probed_at) in enumerate(ordered):
        start = began + index * spacing
        if probed_at is not None:
            start = max(start, began + period - (now - probed_at).total_seconds())
        plan.append((min(start, began + period), stream_id, playback_id))  # a clock set back: no longer
    return sorted(plan, key=lambda p: p[0])


def _probe_round(
    ctx: Context, due: list[tuple[str, str, datetime | None]], period: float
) -> tuple[dict[str, Verdict], dict[str, Any]]:
    began = time.monotonic()
    pending: dict[Future[Verdict], tuple[str, datetime]] = {}
    gathered: dict[str, tuple[Verdict, datetime]] = {}
    results: dict[str, Verdict] = {}
    changed = 0
    last_write = began

    def collect(timeout: float) -> None:
        nonlocal changed, last_write
        if pending:
            done, _ = wait(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                stream_id, started_at = pending.pop(future)
                results[stream_id] = future.result()
                gathered[stream_id] = (results[stream_id], started_at)
        elif timeout > 0:
            ctx.sleep(timeout)
        if gathered and time.monotonic() - last_write >= 0.5:
            changed += record(dict(gathered))
            gathered.clear()
            last_write = time.monotonic()

    http = probe_client()
    try:
        for start, stream_id, playback_id in _schedule(due, period, began):
            while (left := start - time.monotonic()) > 0:
                ctx.check()
                collect(min(left, 0.1))
            ctx.check()
            future = ctx.pool().submit(probe, http, playback_id)
            pending[future] = (stream_id, timezone.now())
        while pending:
            ctx.check()
            collect(0.1)
    except Interrupted:
        for future in pending:
            future.cancel()
        if not ctx.lost_lease and gathered:
            record(gathered)  # stopping: what was found is true, keep it
        raise
    finally:
        http.close()  # a probe still running after an interruption fails at once, unread
    changed += record(gathered)
    lights: dict[str, int] = {}
    for verdict in results.values():
        lights[str(verdict.light)] = lights.get(str(verdict.light), 0) + 1
    return results, {"changed": changed, "lights": lights}


# ------------------------------------------------------------------------------------- what pages show

NAMES = {"encoder": "Encoder", "live": "Live", "playable": "Playable"}
WORDS: dict[str, dict[str, str]] = {
    "encoder": {Light.ON: "Connected", Light.OFF: "Not connected", Light.UNKNOWN: "Unknown"},
    "live": {Light.ON: "Live", Light.OFF: "Not live", Light.UNKNOWN: "Unknown"},
    "playable": {
        Light.ON: "Playable",
        Light.OFF: "Not playable",
        Light.UNKNOWN: "Unknown",
        Light.PRIVATE: "Private",
    },
}
SHAPES: dict[str, str] = {
    Light.ON: "✓",
    Light.OFF: "✕",
    Light.UNKNOWN: "?",
    Light.PRIVATE: "⊘",
}  # never colour alone


@dataclass(frozen=True)
class Shown:
    """One light as a page shows it: its name, value, word, reason, and when it last changed."""

    key: str
    value: str
    reason: str
    changed_at: datetime | None

    @property
    def name(self) -> str:
        return NAMES[self.key]

    @property
    def word(self) -> str:
        return WORDS[self.key].get(self.value, "Unknown")

    @property
    def shape(self) -> str:
        return SHAPES.get(self.value, "?")


def as_of(readiness: Readiness | None, row: MirroredStream | None) -> Readiness | None:
    """The lights as the mirror has them now. The job judges once a period, but the mirror learns a drop,
    a reconnect or an end from FastPix's event at once: a page shows that at once too, and never a light
    the row contradicts. Encoder and Live follow the row; Playable is off once the stream is no longer
    preparing or live (never green for a stream that ended before the job ran again, or with the worker
    down); without a Readiness row (the job has not judged the stream yet) the lights are built from the
    row, Playable "not checked yet". The stored row is left to the job: a change gives a copy."""
    if row is None:
        return readiness
    status = row.status if row.deleted_at is None else ""  # a deleted stream is judged no more
    encoder, on_air = _status_lights(status, row.disconnected_at)
    judged = status in LIVE_STATUSES
    if readiness is None:
        return Readiness(
            stream_id=row.stream_id,
            encoder=encoder,
            encoder_changed_at=row.disconnected_at,
            live=on_air,
            playable=Light.UNKNOWN if judged else Light.OFF,
            playable_reason="not checked yet" if judged else "",
        )
    ended = not judged and (readiness.playable, readiness.playable_reason) != (Light.OFF, "")
    if (readiness.encoder, readiness.live) == (encoder, on_air) and not ended:
        return readiness
    shown = copy.copy(readiness)
    changed_at = row.disconnected_at or row.observed_at
    if shown.encoder != encoder:
        shown.encoder, shown.encoder_changed_at = encoder, changed_at
    if shown.live != on_air:
        shown.live, shown.live_changed_at = on_air, row.observed_at
    if ended:
        if shown.playable != Light.OFF:
            shown.playable, shown.playable_changed_at = Light.OFF, row.observed_at
        shown.playable_reason = ""
    return shown


def lights(readiness: Readiness | None, status: str) -> list[Shown]:
    """The three lights of a stream: `as_of(its Readiness row, its mirror row)`, or (with no mirror row
    either) what the status alone says, with Playable "not checked yet" for a preparing or live stream."""
    if readiness is not None:
        return [
            Shown("encoder", readiness.encoder, "", readiness.encoder_changed_at),
            Shown("live", readiness.live, "", readiness.live_changed_at),
            Shown("playable", readiness.playable, readiness.playable_reason, readiness.playable_changed_at),
        ]
    encoder, on_air = _status_lights(status, None)
    judged = status in LIVE_STATUSES
    return [
        Shown("encoder", encoder if judged else Light.OFF, "", None),
        Shown("live", on_air, "", None),
        Shown("playable", Light.UNKNOWN if judged else Light.OFF, "not checked yet" if judged else "", None),
    ]
