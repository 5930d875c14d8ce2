"""The one FastPix API client of the console.

Every FastPix call goes through `FastPixClient`: one pooled `httpx.Client`, explicit timeouts, Basic auth,
a small retry loop that follows the spec's `x-fastpix-retries` (contract §1.6, §9 A18), typed results
(frozen dataclasses) and one exception class per HTTP status. Section numbers (§…, A…) refer to
shared/fastpix-contract.md.

The client is shared by many threads (the views fetch viewer counts from a thread pool), so it keeps no
per-call state on `self`; `httpx.Client` itself is thread-safe.
"""

from __future__ import annotations

import contextvars
import enum
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from streams import policy
from streams.policy import is_stream_id

__all__ = [
    "ApiError",
    "FastPixClient",
    "FastPixError",
    "FieldError",
    "Forbidden",
    "InvalidState",
    "LiveStream",
    "Media",
    "NotFound",
    "Page",
    "PlaybackId",
    "RateLimited",
    "ServerError",
    "Simulcast",
    "Unauthorized",
    "Unavailable",
    "UpstreamCall",
    "ValidationFailed",
    "ViewerCount",
    "get_client",
    "may_have_acted",
    "reset_client",
    "upstream_calls",
]

logger = logging.getLogger("streams.client")

USER_AGENT = f"fastpix-live-console/0.1.0 python-httpx/{httpx.__version__}"

Order = Literal["desc", "asc"]
T = TypeVar("T")


# --------------------------------------------------------------------------------------------------------
# Observability


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """One HTTP attempt. Never carries headers or bodies, so it is safe to render in a debug panel."""

    method: str
    path: str  # relative to the base URL, without the query string
    status: int | None  # None when no response arrived (connection error, timeout)
    elapsed_ms: float


# When a caller sets this to a list, every attempt is appended to it (e.g. a middleware that counts
# upstream calls per page). Threads started from a pool see it only if the caller copies the context
# (`contextvars.copy_context().run`); the list itself is shared, and list.append is atomic.
upstream_calls: contextvars.ContextVar[list[UpstreamCall] | None] = contextvars.ContextVar(
    "upstream_calls", default=None
)


# --------------------------------------------------------------------------------------------------------
# Errors


class FastPixError(Exception):
    """Base class of everything this module raises about FastPix."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ApiError(FastPixError):
    """FastPix answered with a non-2xx status. `message`/`description` are FastPix's own words (§1.4)."""

    def __init__(
        self,
        status: int,
        message: str,
        description: str = "",
        fields: tuple[FieldError, ...] = (),
        *,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.message = message
        self.description = description
        self.fields = fields
        self.method = method
        self.path = path
        super().__init__(self._summary())

    def _summary(self) -> str:
        # Built only from the method, the path and FastPix's error text: never from request headers or
        # bodies, so neither the Authorization header nor a stream key can end up in a log line.
        where = f" on {self.method} {self.path}" if self.method else ""
        text = f"FastPix {self.status}{where}: {self.message}"
        if self.description:
            text += f" ({self.description})"
        if self.fields:
            text += " [" + "; ".join(f"{f.field}: {f.message}" for f in self.fields) + "]"
        return text


class InvalidState(ApiError):
    """400: the operation is not allowed in the stream's current state (already enabled, not active, …)."""


class Unauthorized(ApiError):
    """401: missing or wrong credentials (A20)."""


class Forbidden(ApiError):
    """403: valid credentials without the permission the call needs (A20)."""


class NotFound(ApiError):
    """404: unknown stream, playback ID or media."""


class ValidationFailed(ApiError):
    """422: payload or query validation failed; `fields` says which (§1.4)."""


class RateLimited(ApiError):
    """429. `retry_after` is the Retry-After header in seconds, when FastPix sent one (§1.7)."""

    def __init__(
        self,
        status: int,
        message: str,
        description: str = "",
        fields: tuple[FieldError, ...] = (),
        *,
        method: str = "",
        path: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(status, message, description, fields, method=method, path=path)


class ServerError(ApiError):
    """5xx, including FastPix's 524 "Timeout Occurred" (§1.5)."""


class Unavailable(FastPixError):
    """No HTTP response: connection error or timeout.

    `maybe_processed` is True when the request may have reached FastPix (read/write timeout, connection
    dropped after sending), so the outcome of a mutation is unknown and the caller should re-read.
    """

    def __init__(
        self, message: str, *, method: str, path: str, timed_out: bool, maybe_processed: bool
    ) -> None:
        self.method = method
        self.path = path
        self.timed_out = timed_out
        self.maybe_processed = maybe_processed
        super().__init__(f"FastPix unreachable on {method} {path}: {message}")


def may_have_acted(exc: FastPixError) -> bool:
    """After this failure of a mutation, FastPix may have carried it out: the outcome is unknown until
    the stream is read again. True for a 5xx, a 408, a timeout or a dropped connection after sending,
    and a 2xx whose body could not be read; False when FastPix certainly refused or never received it."""
    if isinstance(exc, Unavailable):
        return exc.maybe_processed
    if isinstance(exc, ApiError):
        return exc.status >= 500 or exc.status == 408 or 200 <= exc.status < 300
    return True


_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: InvalidState,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: ValidationFailed,
    429: RateLimited,
}


# --------------------------------------------------------------------------------------------------------
# Typed results. Every wire field is optional (A13): missing or mistyped values get the documented default.


@dataclass(frozen=True, slots=True)
class PlaybackId:
    id: str
    access_policy: str = "public"  # public | private (live); media adds drm


@dataclass(frozen=True, slots=True)
class Simulcast:
    simulcast_id: str
    url: str = ""
    stream_key: str = field(default="", repr=False)  # third-party key, echoed unmasked (§2.3)
    is_enabled: bool = True  # spec default of simulcastUpdateRequest.isEnabled
    metadata: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class LiveStream:
    stream_id: str
    status: str = "unknown"  # idle | preparing | active | disabled; anything else is kept as sent
    created_at: datetime | None = None
    stream_key: str = field(default="", repr=False)
    srt_secret: str = field(default="", repr=False)
    srt_playback_stream_id: str = ""
    srt_playback_secret: str = field(default="", repr=False)
    trial: bool = False
    max_resolution: str = "1080p"
    max_duration: int = 28800  # seconds; 0 means unlimited (A22); 28800 is the documented default (A13)
    reconnect_window: int = 60
    enable_recording: bool = True
    enable_dvr_mode: bool = False
    media_policy: str = "public"
    low_latency: bool = False
    closed_captions: bool = False
    metadata: dict[str, str] = field(default_factory=dict, hash=False)
    playback_ids: tuple[PlaybackId, ...] = ()
    media_ids: tuple[str, ...] = ()  # GET/list only, omitted when empty (§2.1)
    simulcasts: tuple[Simulcast, ...] = ()  # GET/list only (A10)

    @property
    def name(self) -> str:
        return policy.display_name(self.metadata, self.stream_id)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_disabled(self) -> bool:
        return self.status == "disabled"

    @property
    def primary_playback_id(self) -> PlaybackId | None:
        return _primary_playback_id(self.playback_ids)


@dataclass(frozen=True, slots=True)
class ViewerCount:
    views: int  # approximate concurrent viewers (A9)


@dataclass(frozen=True, slots=True)
class Media:
    id: str
    status: str = "Unknown"  # capitalised on the wire: Created … Processing, Ready, Failed (§2.4)
    stream_id: str | None = None
    title: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    duration: str | None = None  # "HH:MM:SS" as sent
    thumbnail: str | None = None
    playback_ids: tuple[PlaybackId, ...] = ()
    max_resolution: str | None = None
    source_resolution: str | None = None
    aspect_ratio: str | None = None
    is_audio_only: bool = False
    metadata: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_ready(self) -> bool:
        return self.status.lower() == "ready"

    @property
    def is_failed(self) -> bool:
        return self.status.lower() == "failed"

    @property
    def is_processing(self) -> bool:
        """Any non-terminal status (Created, Downloading, In Queue, Processing, or one we do not know)."""
        return not (self.is_ready or self.is_failed)

    @property
    def duration_seconds(self) -> int | None:
        if not self.duration:
            return None
        try:
            parts = [float(p) for p in self.duration.split(":")]
        except ValueError:
            return None
        if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
            return None
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + part
        return round(seconds)

    @property
    def primary_playback_id(self) -> PlaybackId | None:
        return _primary_playback_id(self.playback_ids)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list endpoint. `page` is the 1-based page number that FastPix calls `offset` (A1).

    Build it as `Page(...)`, not `Page[X](...)`: on Python 3.11 a subscripted call cannot set
    `__orig_class__` on a slotted frozen dataclass.
    """

    items: tuple[T, ...]
    total: int
    page: int
    limit: int

    @property
    def page_count(self) -> int:
        # Computed from totalRecords and our own limit; offsetCount's meaning is disputed (A2).
        if self.limit <= 0:
            return 0
        return math.ceil(self.total / self.limit)

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _primary_playback_id(playback_ids: tuple[PlaybackId, ...]) -> PlaybackId | None:
    for playback_id in playback_ids:
        if playback_id.access_policy == "public":
            return playback_id
    return playback_ids[0] if playback_ids else None


def without_secrets(stream: LiveStream) -> LiveStream:
    """The stream with no stream key, SRT secrets or simulcast keys: what may be cached, mirrored or
    rendered for anyone (a secret reaches a page only through its audited reveal)."""
    return replace(
        stream,
        stream_key="",
        srt_secret="",
        srt_playback_secret="",
        simulcasts=tuple(replace(target, stream_key="") for target in stream.simulcasts),
    )


# --------------------------------------------------------------------------------------------------------
# Defensive parsing helpers


def _str(value: Any, default: str = "") -> str:
    return value if isinstance(value, str) else default


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):  # bool is an int subclass; true is not 1 second
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return default


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _metadata(value: Any) -> dict[str, str]:
    # Values must be strings (A12); tolerate numbers and booleans, drop nested objects and nulls.
    return {
        str(key): (str(item).lower() if isinstance(item, bool) else str(item))
        for key, item in _dict(value).items()
        if isinstance(item, str | int | float)
    }


def parse_time(value: Any) -> datetime | None:
    """A FastPix timestamp, aware and in UTC; None when it is missing or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        # FastPix timestamps are UTC (§1.3): every datetime handed out is aware and in UTC, as the database
        # keeps it. One with no UTC time (0001-01-01T00:00+05:00 would be in year 0) is as unreadable as junk.
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _playback_ids(value: Any) -> tuple[PlaybackId, ...]:
    return tuple(
        _parse_playback_id(item) for item in _list(value) if isinstance(item, dict) and item.get("id")
    )


def _parse_playback_id(data: dict[str, Any]) -> PlaybackId:
    return PlaybackId(id=_str(data.get("id")), access_policy=_str(data.get("accessPolicy"), "public"))


def _parse_simulcast(data: dict[str, Any]) -> Simulcast:
    return Simulcast(
        simulcast_id=_str(data.get("simulcastId")),
        url=_str(data.get("url")),
        stream_key=_str(data.get("streamKey")),
        is_enabled=_bool(data.get("isEnabled"), True),
        metadata=_metadata(data.get("metadata")),
    )


def _parse_stream(data: dict[str, Any], *, stream_id: str = "") -> LiveStream:
    status = _str(data.get("status"), "unknown").strip() or "unknown"
    # The wire is lowercase (§2.1); fold a known value sent in another case, keep unknown ones as sent.
    if status.lower() in policy.STATUSES:
        status = status.lower()
    srt_playback = _dict(data.get("srtPlaybackResponse"))
    return LiveStream(
        # The id asked for when FastPix's own is missing or malformed (it ends up in URLs, logs, the DB).
        stream_id=data["streamId"] if is_stream_id(data.get("streamId")) else stream_id,
        status=status,
        created_at=parse_time(data.get("createdAt")),
        stream_key=_str(data.get("streamKey")),
        srt_secret=_str(data.get("srtSecret")),
        srt_playback_stream_id=_str(srt_playback.get("srtPlaybackStreamId")),
        srt_playback_secret=_str(srt_playback.get("srtPlaybackSecret")),
        trial=_bool(data.get("trial"), False),
        max_resolution=_str(data.get("maxResolution"), "1080p"),
        max_duration=_int(data.get("maxDuration"), 28800),
        reconnect_window=_int(data.get("reconnectWindow"), 60),
        enable_recording=_bool(data.get("enableRecording"), True),
        enable_dvr_mode=_bool(data.get("enableDvrMode"), False),
        media_policy=_str(data.get("mediaPolicy"), "public"),
        low_latency=_bool(data.get("lowLatency"), False),
        closed_captions=_bool(data.get("closedCaptions"), False),
        metadata=_metadata(data.get("metadata")),
        playback_ids=_playback_ids(data.get("playbackIds")),
        media_ids=tuple(item for item in _list(data.get("mediaIds")) if isinstance(item, str) and item),
        simulcasts=tuple(
            _parse_simulcast(item) for item in _list(data.get("simulcastResponses")) if isinstance(item, dict)
        ),
    )


def _parse_media(data: dict[str, Any], *, media_id: str = "") -> Media:
    return Media(
        id=_str(data.get("id"), media_id) or media_id,
        status=_str(data.get("status")).strip() or "Unknown",
        stream_id=_opt_str(data.get("streamId")),
        title=_opt_str(data.get("title")),
        created_at=parse_time(data.get("createdAt")),
        updated_at=parse_time(data.get("updatedAt")),
        # The spec sends "HH:MM:SS"; SDK 1.2.0 models a number of seconds, so accept both.
        duration=_opt_str(data.get("duration"))
        or (str(data["duration"]) if isinstance(data.get("duration"), int | float) else None),
        thumbnail=_opt_str(data.get("thumbnail")),
        playback_ids=_playback_ids(data.get("playbackIds")),
        max_resolution=_opt_str(data.get("maxResolution")),
        source_resolution=_opt_str(data.get("sourceResolution")),
        aspect_ratio=_opt_str(data.get("aspectRatio")),
        is_audio_only=_bool(data.get("isAudioOnly"), False),
        metadata=_metadata(data.get("metadata")),
    )


def _field_errors(value: Any) -> tuple[FieldError, ...]:
    return tuple(
        FieldError(field=_str(item.get("field")), message=_str(item.get("message")))
        for item in _list(value)
        if isinstance(item, dict)
    )


def _parse_error(response: httpx.Response) -> tuple[str, str, tuple[FieldError, ...]]:
    """(message, description, fields) from the vendor envelope (§1.4), legacy shapes, or a non-JSON body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = description = ""
    fields: tuple[FieldError, ...] = ()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = _str(error.get("message"))
            description = _str(error.get("description"))
            fields = _field_errors(error.get("fields"))
        elif isinstance(error, str):
            message = error
        message = message or _str(body.get("message"))
        # Legacy `errors[]` (the SDK's ValidationErrorResponse fallback, §1.4).
        legacy = _field_errors(body.get("errors"))
        fields = fields or tuple(item for item in legacy if item.field)
        message = message or next((item.message for item in legacy if item.message), "")
    message = message.strip() or response.reason_phrase or f"HTTP {response.status_code}"
    return message, description.strip(), fields


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: delta-seconds (what FastPix and the emulator send, §1.7) or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _api_error(response: httpx.Response, method: str, path: str) -> ApiError:
    status = response.status_code
    message, description, fields = _parse_error(response)
    if status == 429:
        return RateLimited(
            status, message, description, fields, method=method, path=path, retry_after=_retry_after(response)
        )
    error_class = _ERROR_CLASSES.get(status, ServerError if status >= 500 else ApiError)
    return error_class(status, message, description, fields, method=method, path=path)


# Failures where the request certainly never reached FastPix: no connection, or no free pooled connection.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _unavailable(exc: httpx.RequestError, method: str, path: str) -> Unavailable:
    timed_out = isinstance(exc, httpx.TimeoutException)
    maybe_processed = not isinstance(exc, _NOT_SENT)
    # httpx messages name the failure ("[Errno 111] Connection refused"); they never carry headers.
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if maybe_processed:
        detail += " (the request may have been processed)"
    return Unavailable(detail, method=method, path=path, timed_out=timed_out, maybe_processed=maybe_processed)


# --------------------------------------------------------------------------------------------------------
# The client


class _Retry(enum.Enum):
    READ = "read"  # GET: safe to repeat on any retryable failure
    # POST, PATCH, the state PUTs, DELETE: one click, one mutation. Sent again only when FastPix certainly
    # did not receive it (no connection was made) or asked us to wait and retry (429 with Retry-After).
    # After a 5xx or a timeout FastPix may already have acted: the caller re-reads instead (A18).
    MUTATION = "mutation"


# x-fastpix-retries.statusCodes (spec:L14-20, contract §1.6).
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class FastPixClient:
    """Typed access to the FastPix live-stream API. Thread-safe; build one per process (`get_client()`)."""

    def __init__(
        self,
        *,
        base_url: str,
        token_id: str,
        secret: str,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_attempts: int = 3,
        backoff_initial: float = 1.0,
        backoff_max: float = 10.0,
        max_retry_after: float = 10.0,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        # Auth and headers go on every request rather than on the httpx.Client, so an injected client
        # (tests, a custom transport) needs no FastPix configuration of its own.
        self._auth = httpx.BasicAuth(token_id, secret)
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        self._max_attempts = max(1, max_attempts)
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            # The list view asks for up to 50 viewer counts at once from a thread pool: one pool, large
            # enough that those calls do not queue behind each other, reusing TLS connections.
            # Idle connections are dropped after 4 s: before a server's usual 5 s keep-alive timeout, so
            # that a reused connection is not one the server is closing at that moment.
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=4.0),
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    def close(self) -> None:
        """Close the connection pool. An injected `http_client` belongs to the caller and stays open."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> FastPixClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- live streams (§3.1-3.9) ----

    def list_streams(self, *, page: int = 1, limit: int = 10, order: Order = "desc") -> Page[LiveStream]:
        path = "/live/streams"
        response = self._get(path, params=_page_params(page, limit, order))
        body = _body(response, "GET", path)
        # A row without a well-formed id cannot be linked to or acted on (and could carry anything into a
        # log or the database); leave it out rather than render a dead row.
        items = tuple(
            _parse_stream(item)
            for item in _data_list(body, response.status_code, "GET", path)
            if isinstance(item, dict) and is_stream_id(item.get("streamId"))
        )
        return _page(body, items, page=page, limit=limit)

    def get_stream(self, stream_id: str) -> LiveStream:
        path = f"/live/streams/{_seg(stream_id)}"
        return _parse_stream(_data_object(self._get(path), "GET", path), stream_id=stream_id)

    def get_viewer_count(self, stream_id: str) -> ViewerCount:
        path = f"/live/streams/{_seg(stream_id)}/viewer-count"
        data = _data_object(self._get(path), "GET", path)
        return ViewerCount(views=max(0, _int(data.get("views"), 0)))

    def update_stream(
        self, stream_id: str, *, metadata: Mapping[str, str], reconnect_window: int
    ) -> LiveStream:
        # PATCH replaces the whole metadata map (§3.5, A5), and reconnectWindow is always sent so that a
        # metadata edit can never reset it (the SDK pitfall in §3.5). A mutation: sent once.
        path = f"/live/streams/{_seg(stream_id)}"
        body = {"metadata": dict(metadata), "reconnectWindow": reconnect_window}
        response = self._request("PATCH", path, json=body, retry=_Retry.MUTATION)
        return _parse_stream(_data_object(response, "PATCH", path), stream_id=stream_id)

    # The state PUTs have no body (§1.3). Like every mutation they are sent once (see _Retry.MUTATION): a
    # blind retry after a 5xx or a read timeout could act twice, or fail with a misleading 400 ("already
    # disabled", "not active"). The caller re-reads the stream to learn what happened.

    def enable_stream(self, stream_id: str) -> None:
        self._state_put(f"/live/streams/{_seg(stream_id)}/live-enable")

    def disable_stream(self, stream_id: str) -> None:
        self._state_put(f"/live/streams/{_seg(stream_id)}/live-disable")

    def finish_stream(self, stream_id: str) -> None:
        self._state_put(f"/live/streams/{_seg(stream_id)}/finish")

    def _state_put(self, path: str) -> None:
        # FastPix answers a JSON envelope (§3.6-3.8). Anything else is not a success we can trust: the
        # caller gets an ApiError with the 2xx status, which may_have_acted() says to settle by a re-read.
        _body(self._request("PUT", path, retry=_Retry.MUTATION), "PUT", path)

    def delete_stream(self, stream_id: str) -> None:
        self._request("DELETE", f"/live/streams/{_seg(stream_id)}", retry=_Retry.MUTATION)

    def create_stream(
        self,
        *,
        access_policy: str = "public",
        max_resolution: str = "1080p",
        reconnect_window: int = 60,
        media_policy: str = "public",
        metadata: Mapping[str, str] | None = None,
        enable_dvr_mode: bool = False,
        enable_recording: bool = True,
    ) -> LiveStream:
        # Never retried after a 5xx or a timeout (A18): FastPix may still have created the stream, and a
        # retry would create a duplicate. The caller looks for it in the list instead.
        input_media_settings: dict[str, Any] = {
            "maxResolution": max_resolution,
            "reconnectWindow": reconnect_window,
            "mediaPolicy": media_policy,
            "enableDvrMode": enable_dvr_mode,
            "enableRecording": enable_recording,  # SDK-only field the API accepts (A14)
        }
        if metadata is not None:
            input_media_settings["metadata"] = dict(metadata)
        body = {
            "playbackSettings": {"accessPolicy": access_policy},
            "inputMediaSettings": input_media_settings,
        }
        path = "/live/streams"
        response = self._request("POST", path, json=body, retry=_Retry.MUTATION)
        return _parse_stream(_data_object(response, "POST", path))

    # ---- live playback IDs (§3.10) ----

    def create_playback_id(self, stream_id: str, *, access_policy: str = "public") -> PlaybackId:
        # Never retried after a 5xx or a timeout (A18): a retry after an unseen success would add a second ID.
        path = f"/live/streams/{_seg(stream_id)}/playback-ids"
        response = self._request("POST", path, json={"accessPolicy": access_policy}, retry=_Retry.MUTATION)
        return _parse_playback_id(_data_object(response, "POST", path))

    def get_playback_id(self, stream_id: str, playback_id: str) -> PlaybackId:
        path = f"/live/streams/{_seg(stream_id)}/playback-ids/{_seg(playback_id)}"
        return _parse_playback_id(_data_object(self._get(path), "GET", path))

    def delete_playback_id(self, stream_id: str, playback_id: str) -> None:
        # playbackId is a query parameter, not a path segment (A11).
        path = f"/live/streams/{_seg(stream_id)}/playback-ids"
        self._request("DELETE", path, params={"playbackId": playback_id}, retry=_Retry.MUTATION)

    # ---- recordings (§3.12, §3.13) ----

    def get_media(self, media_id: str) -> Media:
        path = f"/on-demand/{_seg(media_id)}"
        return _parse_media(_data_object(self._get(path), "GET", path), media_id=media_id)

    def list_live_clips(
        self, stream_id: str, *, page: int = 1, limit: int = 10, order: Order = "desc"
    ) -> Page[Media]:
        path = f"/on-demand/{_seg(stream_id)}/live-clips"
        response = self._get(path, params=_page_params(page, limit, order))
        body = _body(response, "GET", path)
        data = _data_list(body, response.status_code, "GET", path)
        items = tuple(_parse_media(item) for item in data if isinstance(item, dict))
        return _page(body, items, page=page, limit=limit)

    # ---- transport ----

    def _get(self, path: str, *, params: Mapping[str, str | int] | None = None) -> httpx.Response:
        return self._request("GET", path, params=params, retry=_Retry.READ)

    def _request(
        self,
        method: str,
        path: str,
        *,
        retry: _Retry,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One call with the retry policy of §1.6/A18. Returns a 2xx response or raises."""
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            started = time.perf_counter()
            try:
                response = self._http.request(
                    method,
                    self._base_url + path,
                    params=params,
                    json=json,
                    headers=self._headers,
                    auth=self._auth,
                )
            except httpx.RequestError as exc:
                self._record(method, path, None, started, outcome=type(exc).__name__)
                error = _unavailable(exc, method, path)
                can_retry = retry is _Retry.READ or not error.maybe_processed
                if last or not can_retry:
                    raise error from exc
                self._pause(method, path, self._backoff(attempt), reason=type(exc).__name__)
                continue

            self._record(method, path, response.status_code, started)
            if response.is_success:
                return response
            api_error = _api_error(response, method, path)
            if last or response.status_code not in _RETRY_STATUSES:
                raise api_error
            delay = self._backoff(attempt)
            if isinstance(api_error, RateLimited) and api_error.retry_after is not None:
                # A web request must not hang: if FastPix asks for a longer pause than we accept, give up
                # now and let the view say "try again in N s".
                if api_error.retry_after > self._max_retry_after:
                    raise api_error
                delay = api_error.retry_after
            elif retry is _Retry.MUTATION:
                raise api_error  # a 5xx/408, or a 429 that did not say when: FastPix may have acted
            self._pause(method, path, delay, reason=str(response.status_code))
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        # Exponential per x-fastpix-retries: initial 1 s, multiplier 2, capped at 10 s (spec:L5-20).
        return float(min(self._backoff_initial * 2 ** (attempt - 1), self._backoff_max))

    def _pause(self, method: str, path: str, delay: float, *, reason: str) -> None:
        logger.info("fastpix %s %s: retrying in %.1f s after %s", method, path, delay, reason)
        self._sleep(delay)

    @staticmethod
    def _record(method: str, path: str, status: int | None, started: float, *, outcome: str = "") -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        calls = upstream_calls.get()
        if calls is not None:
            calls.append(UpstreamCall(method=method, path=path, status=status, elapsed_ms=elapsed_ms))
        logger.debug("fastpix %s %s -> %s in %.0f ms", method, path, status or outcome, elapsed_ms)


def _seg(value: str) -> str:
    """Quote an ID as one path segment, so an odd ID can never address another endpoint."""
    return quote(value, safe="")


def _page_params(page: int, limit: int, order: Order) -> dict[str, str | int]:
    # Bounds from §1.8: limit 1..50, offset is a 1-based page number (A1). Checked here because a bad
    # value is a programming error, not something to send to FastPix.
    if not 1 <= limit <= 50:
        raise ValueError(f"limit must be between 1 and 50, got {limit}")
    if page < 1:
        raise ValueError(f"page must be 1 or more, got {page}")
    if order not in ("asc", "desc"):
        raise ValueError(f"order must be 'asc' or 'desc', got {order!r}")
    return {"limit": limit, "offset": page, "orderBy": order}


def _page(body: dict[str, Any], items: tuple[T, ...], *, page: int, limit: int) -> Page[T]:
    pagination = _dict(body.get("pagination"))
    # Without totalRecords, count what we can see: the pages before this one plus this page's items.
    total = max(0, _int(pagination.get("totalRecords"), (page - 1) * limit + len(items)))
    current = _int(pagination.get("currentOffset"), page)
    return Page(items=items, total=total, page=current if current >= 1 else page, limit=limit)


def _body(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ApiError(
            response.status_code, "FastPix sent a response that is not JSON", method=method, path=path
        ) from None
    if not isinstance(body, dict):
        raise ApiError(response.status_code, "FastPix sent an unexpected response", method=method, path=path)
    return body


def _data_list(body: dict[str, Any], status: int, method: str, path: str) -> list[Any]:
    data = body.get("data")
    if not isinstance(data, list):
        raise ApiError(status, "FastPix sent a list without a data array", method=method, path=path)
    return data


def _data_object(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    data = _body(response, method, path).get("data")
    if not isinstance(data, dict):
        raise ApiError(
            response.status_code, "FastPix sent a response without a data object", method=method, path=path
        )
    return data


# --------------------------------------------------------------------------------------------------------
# One client per process


_client: FastPixClient | None = None
_client_lock = threading.Lock()


def get_client() -> FastPixClient:
    """The process-wide client, built on first use from Django settings (one pool, one TLS handshake)."""
    global _client
    client = _client
    if client is not None:
        return client
    with _client_lock:
        if _client is None:
            from django.conf import settings

            timeout = float(settings.FASTPIX_TIMEOUT)
            _client = FastPixClient(
                base_url=settings.FASTPIX_API_BASE,
                token_id=settings.FASTPIX_TOKEN_ID,
                secret=settings.FASTPIX_SECRET_KEY,
                timeout=timeout,
                connect_timeout=min(3.0, timeout),  # never longer than the overall per-phase timeout
                backoff_initial=float(settings.FASTPIX_RETRY_BACKOFF),
            )
        return _client


def reset_client() -> None:
    """Close and forget the process-wide client (tests repoint the settings, then call this)."""
    global _client
    with _client_lock:
        client, _client = _client, None
    if client is not None:
        client.close()


def parse_stream(data: dict[str, Any], *, stream_id: str = "") -> LiveStream:
    """A stream as FastPix states it anywhere: a read, a list row, or a webhook's `data` (§5.2)."""
    return _parse_stream(data, stream_id=stream_id)


def parse_media(data: dict[str, Any], *, media_id: str = "") -> Media:
    """A media (recording) as FastPix states it: a read or a `video.media.*` webhook's `data`."""
    return _parse_media(data, media_id=media_id)
