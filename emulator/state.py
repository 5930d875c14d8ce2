"""In-memory workspace: streams, recordings and clips, the state machine (contract §4) and recordings (§4.4).

Every public method takes one `threading.Lock`, so concurrent requests (and the simulation) see consistent
state. Time-driven rules — a reconnect window running out, `maxDuration`, a recording finishing processing —
are applied lazily at the start of every call ("settling"), so they hold with or without the simulation;
while webhooks are configured, their ticker settles every 0.2 s too, so those transitions send their events
on time. Settling scans the encoder sessions only when something can be due (`_next_due`), so a call on a
workspace of 10,000 streams with 500 live costs the same as on an empty one.

Every transition queues its webhook events (contract §5.1) under the lock, in the order they happen, with
`data` as the API shows the object at that moment. Queueing is all that happens here: delivery is
`emulator.webhooks`' thread. Seeding happens before webhooks are configured, so it emits nothing.
"""

from __future__ import annotations

import bisect
import math
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from emulator import errors
from emulator.errors import ApiError
from emulator.validation import (
    CreatePlayback,
    CreateSimulcast,
    CreateStream,
    Paging,
    UpdateSimulcast,
    UpdateStream,
)
from emulator.webhooks import Event, Webhooks

StreamStatus = Literal["idle", "preparing", "active", "disabled"]
STREAM_STATUSES: tuple[StreamStatus, ...] = ("idle", "preparing", "active", "disabled")
# Capitalised on the wire (contract §2.4, spec:L6529-6541).
MEDIA_STATUSES = (
    "Created",
    "Downloading",
    "Downloaded",
    "Validating",
    "In Queue",
    "Processing",
    "Ready",
    "Failed",
)
MediaKind = Literal["recording", "clip"]
TRIAL_MAX_SECONDS = 300  # "The duration of trial streams is five minutes" (spec:L9556-9559)
DEFAULT_MAX_DURATION = 28800  # A22
WORKSPACE_ID = "6dc2b4e0-0615-42fd-a580-1f4aad932dfe"  # one emulated workspace; the spec's example id
_RESOLUTION_SIZES = {"1080p": (1920, 1080), "720p": (1280, 720), "480p": (854, 480)}
_MEDIA_EVENTS = {"Ready": "ready", "Failed": "failed"}  # any other status change: video.media.updated
_NEVER = datetime.max.replace(tzinfo=UTC)
_AT_ONCE = datetime.min.replace(tzinfo=UTC)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with microseconds and `Z` (contract §1.3)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hms(seconds: float) -> str:
    """Media `duration` is an "HH:MM:SS" string (spec:L6602-6605)."""
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class ControlError(ApiError):
    """A control-API request that the current state does not allow (not a vendor error)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message, message)


@dataclass
class PlaybackId:
    id: str
    access_policy: str
    access_restrictions: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "accessPolicy": self.access_policy}
        if self.access_restrictions is not None:
            data["accessRestrictions"] = self.access_restrictions
        return data


@dataclass
class Simulcast:
    simulcast_id: str
    url: str
    stream_key: str
    is_enabled: bool = True
    metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # The third-party key is echoed back unmasked (spec:L10017-10024).
        return {
            "simulcastId": self.simulcast_id,
            "url": self.url,
            "streamKey": self.stream_key,
            "isEnabled": self.is_enabled,
            "metadata": dict(self.metadata),
        }


@dataclass
class Stream:
    stream_id: str
    stream_key: str
    srt_secret: str
    srt_playback_secret: str
    created_at: datetime
    seq: int
    status: StreamStatus = "idle"
    trial: bool = False
    max_resolution: str = "1080p"
    max_duration: int = DEFAULT_MAX_DURATION
    reconnect_window: int = 60
    enable_recording: bool = True
    enable_dvr_mode: bool = False
    media_policy: str = "public"
    metadata: dict[str, str] = field(default_factory=dict)
    low_latency: bool = False
    closed_captions: bool = False
    playback_ids: list[PlaybackId] = field(default_factory=list)
    simulcasts: list[Simulcast] = field(default_factory=list)
    media_ids: list[str] = field(default_factory=list)
    # Emulator-only; never on the /v1 wire.
    views: int = 0
    encoder_connected: bool = False
    active_since: datetime | None = None
    disconnected_at: datetime | None = None

    def to_json(self, *, with_children: bool) -> dict[str, Any]:
        """Key order follows the vendor examples (seed001:L156-184; spec:L9542-9643)."""
        data: dict[str, Any] = {
            "streamId": self.stream_id,
            "streamKey": self.stream_key,
            "srtSecret": self.srt_secret,
            "trial": self.trial,
            "status": self.status,
            "maxResolution": self.max_resolution,
            "maxDuration": self.max_duration,
            "createdAt": iso(self.created_at),
            "reconnectWindow": self.reconnect_window,
            "enableRecording": self.enable_recording,
            "enableDvrMode": self.enable_dvr_mode,
            "mediaPolicy": self.media_policy,
        }
        if self.metadata:  # omitted when empty (A13)
            data["metadata"] = dict(self.metadata)
        data["lowLatency"] = self.low_latency
        data["closedCaptions"] = self.closed_captions
        data["playbackIds"] = [p.to_json() for p in self.playback_ids]
        # POST and PATCH responses never carry these; GET/list only when non-empty (A13).
        if with_children and self.simulcasts:
            data["simulcastResponses"] = [s.to_json() for s in self.simulcasts]
        if with_children and self.media_ids:
            data["mediaIds"] = list(self.media_ids)
        data["srtPlaybackResponse"] = {
            "srtPlaybackStreamId": "play" + self.stream_id,
            "srtPlaybackSecret": self.srt_playback_secret,
        }
        return data


@dataclass
class Media:
    id: str
    kind: MediaKind
    stream_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    duration_seconds: float
    playback_id: PlaybackId
    max_resolution: str
    seq: int
    metadata: dict[str, str] = field(default_factory=dict)
    ready_at: datetime | None = None  # Processing → Ready at this moment (None: stays as it is)
    track_id: str = ""

    def to_json(self) -> dict[str, Any]:
        """Shape of `GetMediaResponse` / `Live-Media-Clips` (spec:L6445-6764).

        `mp4Support` is left out on purpose: the spec types it as a string enum while SDK 1.2.0 expects a list
        of objects; both accept its absence.
        """
        width, height = _RESOLUTION_SIZES.get(self.max_resolution, (1920, 1080))
        playback = self.playback_id.to_json()
        playback.setdefault("accessRestrictions", _OPEN_RESTRICTIONS)
        data: dict[str, Any] = {
            "thumbnail": f"https://images.fastpix.com/{self.playback_id.id}/thumbnail.png",
            "id": self.id,
            "workspaceId": WORKSPACE_ID,
            "streamId": self.stream_id,
        }
        if self.metadata and self.kind == "recording":
            data["metadata"] = dict(self.metadata)
        if self.kind == "recording":
            data["mediaQuality"] = "standard"
        data.update(
            {
                "maxResolution": self.max_resolution,
                "sourceResolution": self.max_resolution,
                "status": self.status,
                "sourceAccess": False,
                "playbackIds": [playback],
                # Only the video track, as in every vendor example (spec:L555-561, seed004:L100-149): the
                # spec's `oneOf` cannot tell an audio track from a VideoTrack, whose `type` is unconstrained.
                "tracks": [
                    {
                        "id": self.track_id,
                        "type": "video",
                        "width": width,
                        "height": height,
                        "frameRate": "30/1",
                        "status": "available",
                    }
                ],
                "isAudioOnly": False,
                "subtitleAvailable": False,
                "duration": hms(self.duration_seconds),
            }
        )
        if self.kind == "recording":
            data["frameRate"] = "30/1"
        data["aspectRatio"] = "16:9"
        data["createdAt"] = iso(self.created_at)
        data["updatedAt"] = iso(self.updated_at)
        return data


_OPEN_RESTRICTIONS: dict[str, Any] = {
    "domains": {"defaultPolicy": "allow", "allow": [], "deny": []},
    "userAgents": {"defaultPolicy": "allow", "allow": [], "deny": []},
}


def page(items: list[Any], paging: Paging) -> tuple[list[Any], dict[str, int]]:
    """1-based page `offset` (contract §1.8, A1); `offsetCount` = number of pages (A2)."""
    total = len(items)
    start = (paging.offset - 1) * paging.limit
    chunk = items[start : start + paging.limit]
    return chunk, {
        "totalRecords": total,
        "currentOffset": paging.offset,
        "offsetCount": math.ceil(total / paging.limit),
    }


class State:
    def __init__(
        self, *, clock: Clock = utc_now, rng_seed: int | None = None, processing_seconds: float = 0.0
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.processing_seconds = processing_seconds
        self._rng = random.Random(rng_seed)
        self._seq = 0
        self._streams: dict[str, Stream] = {}
        # (createdAt, seq, streamId), ascending: a list page is a slice, never a sort of the workspace.
        self._index: list[tuple[datetime, int, str]] = []
        self._media: dict[str, Media] = {}
        self._sessions: set[str] = set()  # streams with an encoder session to watch while settling
        self._processing: set[str] = set()  # media that turn Ready at their `ready_at`
        self._next_due = _AT_ONCE  # nothing time-driven can happen before this moment
        self._last_event_at = _AT_ONCE
        self.webhooks: Webhooks | None = None  # set by the Emulator; None: no events at all

    # ----------------------------------------------------------------------------------------- plumbing

    def clear(self, *, rng_seed: int | None = None) -> None:
        with self._lock:
            self._rng = random.Random(rng_seed)
            self._seq = 0
            self._streams.clear()
            self._index.clear()
            self._media.clear()
            self._sessions.clear()
            self._processing.clear()
            self._next_due = _AT_ONCE

    def now(self) -> datetime:
        return self._clock()

    def _hex32(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def _uuid4(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _stream(self, stream_id: str, missing: errors.Message = errors.STREAM_NOT_FOUND) -> Stream:
        stream = self._streams.get(stream_id)
        if stream is None:
            raise ApiError.of(404, missing)
        return stream

    def settle(self) -> None:
        """Apply whatever time-driven transition is due now (the webhook ticker calls this)."""
        with self._lock:
            self._settle(self.now())

    def _rescan(self) -> None:
        """A session or a processing recording changed: the next settle looks at all of them again."""
        self._next_due = _AT_ONCE

    def _settle(self, now: datetime) -> None:
        """Apply every time-driven transition that is due (contract §4.2)."""
        if now < self._next_due:
            return
        next_due = _NEVER
        for stream_id in list(self._sessions):
            stream = self._streams[stream_id]
            if stream.disconnected_at is not None:
                deadline = stream.disconnected_at + timedelta(seconds=stream.reconnect_window)
                if now >= deadline:
                    # The encoder did not come back within reconnectWindow: the session ended when it left.
                    self._end_session(stream, ended_at=stream.disconnected_at, now=now)
                    continue
                next_due = min(next_due, deadline)
            limit = TRIAL_MAX_SECONDS if stream.trial else stream.max_duration
            if stream.status == "active" and stream.active_since is not None and limit > 0:
                cutoff = stream.active_since + timedelta(seconds=limit)
                if now >= cutoff:
                    # maxDuration reached → idle; a trial stream is "turned off" (spec:L9559, L9578).
                    trial = stream.trial
                    self._end_session(
                        stream,
                        ended_at=cutoff,
                        now=now,
                        to_status="disabled" if trial else "idle",
                        event="disabled" if trial else "idle",
                    )
                    continue
                next_due = min(next_due, cutoff)
        for media_id in list(self._processing):
            media = self._media[media_id]
            self._settle_media(media, now)
            if media.ready_at is not None:
                next_due = min(next_due, media.ready_at)
        self._next_due = next_due

    def _settle_media(self, media: Media, now: datetime) -> None:
        if media.status == "Processing" and media.ready_at is not None and now >= media.ready_at:
            media.status = "Ready"
            media.updated_at = media.ready_at
            media.ready_at = None
            self._processing.discard(media.id)
            self._emit_media("ready", media, now)

    # ------------------------------------------------------------------------------ events (§5)

    def _emitting(self) -> bool:
        return self.webhooks is not None and self.webhooks.enabled

    def _event_time(self, now: datetime) -> str:
        """`now`, but strictly after the previous event's time: one call's events keep their order."""
        moment = max(now, self._last_event_at + timedelta(microseconds=1))
        self._last_event_at = moment
        return iso(moment)

    def _emit(
        self,
        name: str,
        kind: Literal["live", "media"],
        object_id: str,
        stream_id: str,
        status: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        assert self.webhooks is not None
        self.webhooks.emit(
            Event(
                type=name,
                object_type=kind,
                object_id=object_id,
                stream_id=stream_id,
                status=status,
                data=data,
                created_at=self._event_time(now),
                workspace_id=WORKSPACE_ID,
            )
        )

    def _emit_stream(self, name: str, stream: Stream, now: datetime) -> None:
        """`video.live_stream.<name>`, `data` exactly as GET /live/streams/{id} shows the stream now."""
        if self._emitting():
            data = stream.to_json(with_children=True)
            sid = stream.stream_id
            self._emit(f"video.live_stream.{name}", "live", sid, sid, stream.status, data, now)

    def _emit_simulcast(self, name: str, stream: Stream, simulcast: Simulcast, now: datetime) -> None:
        """`data` is the Simulcast plus its `streamId` (contract §5.2)."""
        if self._emitting():
            data = {**simulcast.to_json(), "streamId": stream.stream_id}
            sid = stream.stream_id
            self._emit(
                f"video.live_stream.simulcast_target.{name}", "live", sid, sid, stream.status, data, now
            )

    def _emit_media(self, name: str, media: Media, now: datetime) -> None:
        """`video.media.<name>`, `data` exactly as GET /on-demand/{id} shows the media now."""
        if self._emitting():
            data = media.to_json()
            self._emit(f"video.media.{name}", "media", media.id, media.stream_id, media.status, data, now)

    def _end_session(
        self,
        stream: Stream,
        *,
        ended_at: datetime,
        now: datetime,
        to_status: StreamStatus = "idle",
        event: str = "idle",
    ) -> None:
        """A broadcast session ends: one recording per session when recording is on (contract §4.4).

        Events: the stream's `event` (it carries the new mediaId), then `video.media.created`, then
        `video.media.ready` at once when recordings need no processing time."""
        recording = None
        if stream.status == "active" and stream.active_since is not None and stream.enable_recording:
            seconds = (ended_at - stream.active_since).total_seconds()
            ready_at = now + timedelta(seconds=self.processing_seconds)
            recording = self._new_media(
                stream, "recording", seconds, now, status="Processing", ready_at=ready_at
            )
        stream.status = to_status
        stream.views = 0
        stream.encoder_connected = False
        stream.active_since = None
        stream.disconnected_at = None
        self._sessions.discard(stream.stream_id)
        self._emit_stream(event, stream, now)
        if recording is not None:
            self._emit_media("created", recording, now)
            self._settle_media(recording, now)

    def _new_media(
        self,
        stream: Stream,
        kind: MediaKind,
        seconds: float,
        created_at: datetime,
        *,
        status: str,
        ready_at: datetime | None = None,
        access_policy: str | None = None,
    ) -> Media:
        media = Media(
            id=self._uuid4(),
            kind=kind,
            stream_id=stream.stream_id,
            status=status,
            created_at=created_at,
            updated_at=created_at,
            duration_seconds=seconds,
            # The recording's playback ID follows the stream's mediaPolicy (spec:L9602-9608).
            playback_id=PlaybackId(self._uuid4(), access_policy or stream.media_policy),
            max_resolution=stream.max_resolution,
            seq=self._next_seq(),
            metadata=dict(stream.metadata),
            ready_at=ready_at,
            track_id=self._uuid4(),
        )
        self._media[media.id] = media
        if kind == "recording":
            stream.media_ids.append(media.id)
        if media.status == "Processing" and ready_at is not None:
            self._processing.add(media.id)
            self._rescan()
        return media

    def _new_stream(
        self,
        *,
        created_at: datetime,
        access_policy: str = "public",
        access_restrictions: dict[str, Any] | None = None,
        **settings: Any,
    ) -> Stream:
        stream_id = self._hex32()
        # Shapes from contract §1.3: key/secret = 32 hex + "k" + streamId.
        stream = Stream(
            stream_id=stream_id,
            stream_key=f"{self._hex32()}k{stream_id}",
            srt_secret=f"{self._hex32()}k{stream_id}",
            srt_playback_secret=f"{self._hex32()}k{stream_id}",
            created_at=created_at,
            seq=self._next_seq(),
            **settings,
        )
        stream.playback_ids.append(PlaybackId(self._uuid4(), access_policy, access_restrictions))
        self._streams[stream_id] = stream
        bisect.insort(self._index, (stream.created_at, stream.seq, stream_id))
        return stream

    def _remove_stream(self, stream: Stream) -> None:
        del self._streams[stream.stream_id]
        position = bisect.bisect_left(self._index, (stream.created_at, stream.seq, stream.stream_id))
        del self._index[position]
        self._sessions.discard(stream.stream_id)

    def _stream_page(self, paging: Paging) -> tuple[list[Stream], dict[str, int]]:
        """A page of streams by (createdAt, seq), cut straight from the sorted index (same as `page`)."""
        total = len(self._index)
        start = (paging.offset - 1) * paging.limit
        if paging.order == "asc":
            keys = self._index[start : start + paging.limit]
        else:  # the ascending index read from its end
            end = total - start
            keys = self._index[max(0, end - paging.limit) : max(0, end)][::-1]
        chunk = [self._streams[key[2]] for key in keys]
        return chunk, {
            "totalRecords": total,
            "currentOffset": paging.offset,
            "offsetCount": math.ceil(total / paging.limit),
        }

    def _ordered(self, items: Iterable[Media], order: str) -> list[Any]:
        return sorted(items, key=lambda item: (item.created_at, item.seq), reverse=order == "desc")

    # ------------------------------------------------------------------------------ vendor API (§10)

    def list_streams(self, paging: Paging) -> tuple[list[dict[str, Any]], dict[str, int]]:
        with self._lock:
            self._settle(self.now())
            chunk, pagination = self._stream_page(paging)
            return [s.to_json(with_children=True) for s in chunk], pagination

    def get_stream(self, stream_id: str) -> dict[str, Any]:
        with self._lock:
            self._settle(self.now())
            return self._stream(stream_id).to_json(with_children=True)

    def viewer_count(self, stream_id: str) -> int:
        with self._lock:
            self._settle(self.now())
            stream = self._stream(stream_id)
            return stream.views if stream.status == "active" else 0  # A9

    def create_stream(self, request: CreateStream) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._new_stream(
                created_at=now,
                access_policy=request.access_policy,
                access_restrictions=request.access_restrictions,
                max_resolution=request.max_resolution,
                reconnect_window=request.reconnect_window,
                media_policy=request.media_policy,
                metadata=dict(request.metadata),
                enable_dvr_mode=request.enable_dvr_mode,
                enable_recording=request.enable_recording,  # A14
            )
            self._emit_stream("created", stream, now)
            return stream.to_json(with_children=False)

    def update_stream(self, stream_id: str, request: UpdateStream) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status == "disabled":
                raise ApiError.of(400, errors.STREAM_DISABLED)  # A6
            if request.metadata is not None:
                stream.metadata = dict(request.metadata)  # replace, never merge (A5)
            if request.reconnect_window is not None:
                stream.reconnect_window = request.reconnect_window
                self._rescan()  # a dropped encoder's deadline moved
            self._emit_stream("updated", stream, now)
            return stream.to_json(with_children=False)

    def enable_stream(self, stream_id: str) -> None:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status != "disabled":
                raise ApiError.of(400, errors.ALREADY_ENABLED)
            if stream.trial:
                raise ApiError.of(400, errors.TRIAL_CANNOT_ENABLE)
            stream.status = "idle"
            self._emit_stream("updated", stream, now)
            self._emit_stream("idle", stream, now)

    def disable_stream(self, stream_id: str) -> None:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status == "disabled":
                raise ApiError.of(400, errors.ALREADY_DISABLED)
            # Disabling an active stream ends the broadcast (seed001:L269), which ends the session.
            self._end_session(stream, ended_at=now, now=now, to_status="disabled", event="disabled")

    def finish_stream(self, stream_id: str) -> None:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status != "active":
                raise ApiError.of(400, errors.STREAM_NOT_ACTIVE)  # A7
            self._end_session(stream, ended_at=now, now=now)

    def delete_stream(self, stream_id: str) -> None:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            # Allowed in every state (A24); recordings are media assets and outlive the stream.
            self._emit_stream("deleted", stream, now)  # `data`: the stream as it was until now
            self._remove_stream(stream)

    def create_playback_id(self, stream_id: str, request: CreatePlayback) -> dict[str, Any]:
        with self._lock:
            stream = self._stream(stream_id)
            playback = PlaybackId(self._uuid4(), request.access_policy, request.access_restrictions)
            stream.playback_ids.append(playback)
            self._emit_stream("updated", stream, self.now())
            return playback.to_json()

    def _playback(self, stream_id: str, playback_id: str) -> tuple[Stream, PlaybackId]:
        stream = self._stream(stream_id, errors.PLAYBACK_NOT_FOUND)
        for playback in stream.playback_ids:
            if playback.id == playback_id:
                return stream, playback
        raise ApiError.of(404, errors.PLAYBACK_NOT_FOUND)

    def get_playback_id(self, stream_id: str, playback_id: str) -> dict[str, Any]:
        with self._lock:
            return self._playback(stream_id, playback_id)[1].to_json()

    def delete_playback_id(self, stream_id: str, playback_id: str) -> None:
        with self._lock:
            stream, playback = self._playback(stream_id, playback_id)
            stream.playback_ids.remove(playback)
            self._emit_stream("updated", stream, self.now())

    def create_simulcast(self, stream_id: str, request: CreateSimulcast) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.trial:
                raise ApiError.of(400, errors.TRIAL_NO_SIMULCAST)
            if stream.status != "idle":
                raise ApiError.of(400, errors.SIMULCAST_NEEDS_IDLE)  # spec:L3974
            simulcast = Simulcast(
                self._hex32(), request.url, request.stream_key, True, dict(request.metadata)
            )
            stream.simulcasts.append(simulcast)
            self._emit_simulcast("created", stream, simulcast, now)
            return simulcast.to_json()

    def _simulcast(self, stream_id: str, simulcast_id: str) -> tuple[Stream, Simulcast]:
        stream = self._stream(stream_id, errors.SIMULCAST_NOT_FOUND)
        for simulcast in stream.simulcasts:
            if simulcast.simulcast_id == simulcast_id:
                return stream, simulcast
        raise ApiError.of(404, errors.SIMULCAST_NOT_FOUND)

    def get_simulcast(self, stream_id: str, simulcast_id: str) -> dict[str, Any]:
        with self._lock:
            return self._simulcast(stream_id, simulcast_id)[1].to_json()

    def update_simulcast(self, stream_id: str, simulcast_id: str, request: UpdateSimulcast) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            self._settle(now)
            stream, simulcast = self._simulcast(stream_id, simulcast_id)
            if stream.status == "disabled":
                raise ApiError.of(400, errors.STREAM_DISABLED)  # spec:L4105
            if request.is_enabled is not None:
                simulcast.is_enabled = request.is_enabled
            if request.metadata is not None:
                simulcast.metadata = dict(request.metadata)
            self._emit_simulcast("updated", stream, simulcast, now)
            return simulcast.to_json()

    def delete_simulcast(self, stream_id: str, simulcast_id: str) -> None:
        with self._lock:
            stream, simulcast = self._simulcast(stream_id, simulcast_id)
            stream.simulcasts.remove(simulcast)
            self._emit_simulcast("deleted", stream, simulcast, self.now())

    def get_media(self, media_id: str) -> dict[str, Any]:
        with self._lock:
            now = self.now()
            self._settle(now)
            media = self._media.get(media_id)
            if media is None:
                raise ApiError.of(404, errors.MEDIA_NOT_FOUND)
            self._settle_media(media, now)
            return media.to_json()

    def list_clips(self, stream_id: str, paging: Paging) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Unknown stream → empty page, not 404 (A19)."""
        with self._lock:
            now = self.now()
            clips = [m for m in self._media.values() if m.kind == "clip" and m.stream_id == stream_id]
            for clip in clips:
                self._settle_media(clip, now)
            chunk, pagination = page(self._ordered(clips, paging.order), paging)
            return [m.to_json() for m in chunk], pagination

    # ------------------------------------------------------------------------------ control API (§8)

    def add_stream(
        self,
        *,
        status: StreamStatus = "idle",
        views: int = 0,
        live_seconds: float = 0.0,
        created_at: datetime | None = None,
        access_policy: str = "public",
        **settings: Any,
    ) -> dict[str, Any]:
        """Create a stream directly in any state, e.g. one that has been live for `live_seconds`."""
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._new_stream(created_at=created_at or now, access_policy=access_policy, **settings)
            stream.status = status
            if status in ("preparing", "active"):
                stream.encoder_connected = True
                self._sessions.add(stream.stream_id)
                self._rescan()
            if status == "active":
                stream.active_since = now - timedelta(seconds=live_seconds)
                stream.views = views
            self._emit_stream("created", stream, now)
            return stream.to_json(with_children=True)

    def stream_state(self, stream_id: str) -> dict[str, Any]:
        with self._lock:
            self._settle(self.now())
            return self._control_view(self._stream(stream_id))

    def _control_view(self, stream: Stream) -> dict[str, Any]:
        return {
            "stream": stream.to_json(with_children=True),
            "views": stream.views if stream.status == "active" else 0,
            "activeSince": iso(stream.active_since) if stream.active_since else None,
            "encoderConnected": stream.encoder_connected,
            "disconnectedAt": iso(stream.disconnected_at) if stream.disconnected_at else None,
        }

    def connect(self, stream_id: str) -> dict[str, Any]:
        """Encoder connects: idle → preparing; within a reconnect window it resumes the session.

        Events: `connected`, then the status it resumes: `preparing`, or `active` again after a drop."""
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status == "disabled":
                raise ControlError(409, "a disabled stream does not accept an encoder")
            if stream.encoder_connected:
                raise ControlError(409, "the encoder is already connected")
            self._connect_encoder(stream, now)
            self._emit_stream(stream.status, stream, now)
            return self._control_view(stream)

    def _connect_encoder(self, stream: Stream, now: datetime) -> None:
        stream.encoder_connected = True
        stream.disconnected_at = None
        if stream.status == "idle":
            stream.status = "preparing"
        self._sessions.add(stream.stream_id)
        self._rescan()
        self._emit_stream("connected", stream, now)

    def go_live(self, stream_id: str) -> dict[str, Any]:
        """preparing → active (from idle it goes through preparing). Events: `active`, `recording`."""
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if stream.status == "disabled":
                raise ControlError(409, "a disabled stream cannot go live")
            if stream.status == "active":
                raise ControlError(409, "the stream is already active")
            if not stream.encoder_connected or stream.status == "idle":
                # From idle, or after a drop while preparing: the encoder (re)connects first.
                was_idle = stream.status == "idle"
                self._connect_encoder(stream, now)
                if was_idle:
                    self._emit_stream("preparing", stream, now)
            stream.status = "active"
            stream.active_since = now
            self._rescan()
            self._emit_stream("active", stream, now)
            if stream.enable_recording:
                self._emit_stream("recording", stream, now)
            return self._control_view(stream)

    def disconnect(self, stream_id: str, *, expire: bool, ago: float = 0.0) -> dict[str, Any]:
        """Encoder drops (`ago` seconds ago); the stream keeps its status until the reconnect window runs
        out (or now, if expire). Events: `disconnected`, later `idle` when the window runs out."""
        with self._lock:
            now = self.now()
            self._settle(now)
            stream = self._stream(stream_id)
            if not stream.encoder_connected:
                raise ControlError(409, "no encoder is connected")
            stream.encoder_connected = False
            stream.disconnected_at = now - timedelta(seconds=ago)
            self._emit_stream("disconnected", stream, now)
            if expire:
                self._end_session(stream, ended_at=now, now=now)
            else:
                self._rescan()
                self._settle(now)  # a window that already ran out (`ago` ≥ reconnectWindow) ends it now
            return self._control_view(stream)

    def set_viewers(self, stream_id: str, views: int) -> dict[str, Any]:
        with self._lock:
            self._settle(self.now())
            stream = self._stream(stream_id)
            stream.views = views
            return self._control_view(stream)

    def add_media(
        self,
        stream_id: str,
        *,
        kind: MediaKind = "recording",
        status: str = "Ready",
        duration_seconds: float = 60.0,
        created_at: datetime | None = None,
        access_policy: str | None = None,
        ready_in_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Add a recording or live clip directly. A given status sticks unless `ready_in_seconds` is set."""
        with self._lock:
            now = self.now()
            stream = self._stream(stream_id)
            ready_at = None
            if status == "Processing" and ready_in_seconds is not None:
                ready_at = now + timedelta(seconds=ready_in_seconds)
            media = self._new_media(
                stream,
                kind,
                duration_seconds,
                created_at or now,
                status=status,
                ready_at=ready_at,
                access_policy=access_policy,
            )
            self._emit_media("created", media, now)
            self._settle_media(media, now)
            return self._media_view(media)

    def media_state(self, media_id: str) -> dict[str, Any]:
        with self._lock:
            media = self._media.get(media_id)
            if media is None:
                raise ApiError.of(404, errors.MEDIA_NOT_FOUND)
            self._settle_media(media, self.now())
            return self._media_view(media)

    def _media_view(self, media: Media) -> dict[str, Any]:
        return {
            "media": media.to_json(),
            "kind": media.kind,
            "readyAt": iso(media.ready_at) if media.ready_at else None,
        }

    def set_media_status(self, media_id: str, status: str) -> dict[str, Any]:
        with self._lock:
            media = self._media.get(media_id)
            if media is None:
                raise ApiError.of(404, errors.MEDIA_NOT_FOUND)
            now = self.now()
            media.status = status
            media.ready_at = None  # an explicit status sticks
            self._processing.discard(media_id)
            media.updated_at = now
            self._emit_media(_MEDIA_EVENTS.get(status, "updated"), media, now)
            return self._media_view(media)

    def ids_by_status(self) -> dict[StreamStatus, list[str]]:
        """For the simulation: which streams are where, after settling."""
        with self._lock:
            self._settle(self.now())
            grouped: dict[StreamStatus, list[str]] = {status: [] for status in STREAM_STATUSES}
            for stream in sorted(self._streams.values(), key=lambda s: s.seq):
                grouped[stream.status].append(stream.stream_id)
            return grouped

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._settle(self.now())
            return {"streams": len(self._streams), "media": len(self._media)}
