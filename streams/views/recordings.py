"""Recordings and live clips: find what FastPix recorded and watch it in the embedded FastPix player.

FastPix records each broadcast session as a media asset (contract §4.4): a stream's `mediaIds` lead to
`GET /on-demand/{mediaId}` (§3.12), whose public playback ID plays at `{FASTPIX_PLAYER_URL}/?playbackId=…`
(§6.1, A17). Live clips come a page at a time from `GET /on-demand/{streamId}/live-clips` (§3.13).

One `get_media` call per recording, made side by side on the FastPix pool. A call that fails costs only its own
row, which then says so and offers a retry; the rest of the page works. Each recording also shows its
broadcast's peak audience, from the console's viewer samples (streams/workspace/history.py says which).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING

from streams.client import (
    FastPixError,
    Forbidden,
    LiveStream,
    Media,
    NotFound,
    Page,
    RateLimited,
    Unauthorized,
    get_client,
)
from streams.live import recent_stream, submit
from streams.views.common import HtmxHttpRequest, fastpix_view, positive_int, requires
from streams.views.streams import PAGE_SIZES
from streams.workspace import history

T = TypeVar("T")

CLIPS_PER_PAGE = 10

PROCESSING_MESSAGE = "Still processing: playable when FastPix finishes, usually within a few minutes."


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    """One recording or clip as a table row: the media, or why it could not be loaded."""

    media_id: str
    media: Media | None = None
    problem: str = ""  # set when `media` is None
    gone: bool = False  # FastPix answered 404: retrying cannot help
    peak: history.Peak | None = None  # a recording's broadcast's highest viewer sample (clips: None)

    @property
    def unavailable(self) -> bool:
        return self.media is None

    @property
    def status(self) -> str:
        """ready | failed | processing | unavailable (also the badge's CSS modifier)."""
        if self.media is None:
            return "unavailable"
        if self.media.is_ready:
            return "ready"
        if self.media.is_failed:
            return "failed"
        return "processing"

    @property
    def status_label(self) -> str:
        return {"ready": "Ready", "failed": "Failed", "processing": "Processing"}.get(
            self.status, "Unavailable"
        )

    @property
    def duration(self) -> str:
        return duration_text(self.media.duration_seconds if self.media else None)

    @property
    def thumbnail(self) -> str:
        return safe_thumbnail(self.media.thumbnail if self.media else None)

    @property
    def resolution(self) -> str:
        if self.media is None:
            return ""
        return self.media.max_resolution or self.media.source_resolution or ""

    @property
    def playable(self) -> bool:
        """Ready, with a public playback ID: the embedded player can play it without a signed token."""
        if self.media is None or not self.media.is_ready:
            return False
        primary = self.media.primary_playback_id
        return primary is not None and primary.access_policy == "public"


def duration_text(seconds: int | None) -> str:
    """1 h 02 min 03 s, 4 min 05 s, 45 s; a dash when FastPix sent no usable duration."""
    if seconds is None:
        return "—"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def safe_thumbnail(url: str | None) -> str:
    """The thumbnail URL, only when it is on the FastPix images origin that the CSP's img-src allows."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return ""
    return url if _origin(url) == _origin(settings.FASTPIX_IMAGES_URL) else ""


def _row_problem(exc: FastPixError) -> str:
    if isinstance(exc, Unauthorized | Forbidden):
        return "FastPix refused the console's credentials for this recording."
    if isinstance(exc, RateLimited):
        return "FastPix is busy and did not return this recording."
    return "FastPix did not return this recording just now."


def _collect(media_id: str, future: Future[Media]) -> Row:
    try:
        media = future.result()
        return Row(media_id, media, peak=history.recording_peak(media))
    except NotFound:
        return Row(media_id, problem="FastPix no longer has this recording.", gone=True)
    except FastPixError as exc:
        return Row(media_id, problem=_row_problem(exc))


def _sorted_newest_first(rows: list[Row]) -> list[Row]:
    """Newest first by creation time where FastPix gives it; rows without one keep their place."""
    created = {row.media_id: row.media.created_at for row in rows if row.media and row.media.created_at}
    dated = sorted((row for row in rows if row.media_id in created), key=lambda r: created[r.media_id])
    return [dated.pop() if row.media_id in created else row for row in rows]


def fetch_row_groups(groups: Sequence[Sequence[str]]) -> list[list[Row]]:
    """One `get_media` per id of every group, all at once; each group ordered on its own (a row never
    leaves the group of the stream that made it), newest first, else in the order of its ids."""
    client = get_client()
    futures = [[(media_id, submit(client.get_media, media_id)) for media_id in ids] for ids in groups]
    return [
        _sorted_newest_first([_collect(media_id, future) for media_id, future in group]) for group in futures
    ]


def fetch_rows(media_ids: Sequence[str]) -> list[Row]:
    """One `get_media` per id, all at once, newest first (see `fetch_row_groups`)."""
    return fetch_row_groups([media_ids])[0]


def newest_first(stream: LiveStream) -> list[str]:
    """mediaIds are appended one per session (contract §4.4), so the last one is the newest."""
    return list(reversed(stream.media_ids))


def _poll_delay(rows: Sequence[Row], stream: LiveStream | None, failed: bool) -> int | None:
    """Seconds until the recordings fragment asks again, or None when nothing can change any more."""
    if any(row.status == "processing" for row in rows):
        return settings.FASTPIX_POLL_SECONDS
    if failed or any(row.unavailable and not row.gone for row in rows):
        return settings.LIVE_POLL_BACKOFF_SECONDS
    if stream is not None and stream.status in {"preparing", "active"}:
        return settings.LIVE_POLL_BACKOFF_SECONDS  # the broadcast will end and leave a recording
    return None


def _htmx_target(request: HtmxHttpRequest) -> str | None:
    if not request.htmx or request.htmx.boosted:
        return None
    return request.htmx.target


# ---------------------------------------------------------------- a stream's recordings and clips


def _recordings_context(stream_id: str, stream: LiveStream | None) -> dict[str, Any]:
    """The recordings fragment. With `stream` None it reads the stream itself and reports failures inline."""
    problem = ""
    gone = False
    if stream is None:
        # Right after the stream's page read it, this is that read; polls and reloads ask FastPix.
        reading = recent_stream(stream_id)
        if reading.failed:
            problem = _row_problem(reading.value).replace("this recording", "the recordings")
        elif reading.value is None:
            gone = True
            problem = "This stream no longer exists, so its recordings cannot be listed here."
        else:
            stream = reading.value
    rows = fetch_rows(newest_first(stream)) if stream is not None else []
    poll_delay = None if gone else _poll_delay(rows, stream, failed=bool(problem))
    return {
        "stream_id": stream_id,
        "stream": stream,
        "rows": rows,
        "load_problem": problem,
        "stream_gone": gone,
        "recordings_url": reverse("stream-recordings", args=[stream_id]),
        "recordings_caption": f"Recordings of {stream.name}, newest first" if stream else "Recordings",
        "poll_delay": poll_delay,
    }


def _clips_context(stream_id: str, page_number: int, clips: Page[Media] | FastPixError) -> dict[str, Any]:
    url = reverse("stream-clips", args=[stream_id])
    context: dict[str, Any] = {"stream_id": stream_id, "clips_url": url, "clips_page_number": page_number}
    if isinstance(clips, FastPixError):
        return {
            **context,
            "clips": None,
            "clip_rows": [],
            "clips_problem": "FastPix did not return the clips.",
        }
    return {
        **context,
        "clips": clips,
        "clip_rows": [Row(media.id, media) for media in clips.items],
        "clips_problem": "",
        "clips_caption": f"Live clips, page {clips.page} of {max(clips.page_count, 1)}, newest first",
        "clips_past_the_end": not clips.items and clips.total > 0,
        # From past the end, "previous" goes to the last page that has clips.
        "clips_previous_url": (
            f"{url}?page={min(page_number - 1, max(clips.page_count, 1))}" if clips.has_previous else ""
        ),
        "clips_next_url": f"{url}?page={page_number + 1}" if clips.has_next else "",
    }


def _fetch_clips(stream_id: str, page_number: int) -> Page[Media] | FastPixError:
    try:
        return get_client().list_live_clips(stream_id, page=page_number, limit=CLIPS_PER_PAGE)
    except FastPixError as exc:
        return exc


def _stream_page(request: HtmxHttpRequest, stream_id: str, clips_page: int) -> HttpResponse:
    """The page without JavaScript: one stream's recordings and a page of its clips."""
    stream = get_client().get_stream(stream_id)  # NotFound and outages: fastpix_view
    clips = submit(_fetch_clips, stream_id, clips_page)
    context = {
        **_recordings_context(stream_id, stream),
        **_clips_context(stream_id, clips_page, clips.result()),
    }
    return render(request, "recordings/stream.html", context)


@require_GET
@requires("view_recordings")
@vary_on_headers("HX-Request", "HX-Target")
@never_cache
@fastpix_view
def stream_recordings(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """The stream page's recordings (htmx, polled while one is processing), or a page of its own."""
    if _htmx_target(request) != "recording-rows":
        return _stream_page(request, stream_id, clips_page=1)
    context = _recordings_context(stream_id, None)
    response = render(request, "recordings/stream.html#recording-rows", context)
    if context["poll_delay"] is None and request.htmx.trigger == "recordings-poller":
        response.status_code = HTMX_STOP_POLLING  # everything is final: stop asking
    return response


@require_GET
@requires("view_recordings")
@vary_on_headers("HX-Request", "HX-Target")
@fastpix_view
def stream_clips(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """One page of a stream's live clips (htmx), or the stream's recordings page showing that page."""
    page_number = positive_int(request.GET.get("page"), 1)
    if _htmx_target(request) != "clip-rows":
        return _stream_page(request, stream_id, clips_page=page_number)
    context = _clips_context(stream_id, page_number, _fetch_clips(stream_id, page_number))
    return render(request, "recordings/stream.html#clip-rows", context)


# ---------------------------------------------------------------- the player page


def _player_context(media: Media) -> dict[str, Any]:
    primary = media.primary_playback_id
    row = Row(media.id, media, peak=history.recording_peak(media))
    private = primary is not None and primary.access_policy != "public"
    playable = row.playable
    return {
        "media": media,
        "row": row,
        "playback_id": primary.id if primary else "",
        "playback_policy": primary.access_policy if primary else "",
        "private": private,
        "playable": playable,
        "player_url": (
            f"{settings.FASTPIX_PLAYER_URL}/?{urlencode({'playbackId': primary.id})}"
            if playable and primary
            else ""
        ),
        "hls_url": f"{settings.FASTPIX_STREAM_URL}/{primary.id}.m3u8" if playable and primary else "",
        "processing_message": PROCESSING_MESSAGE,
        "detail_url": reverse("recording-detail", args=[media.id]),
        "poll_delay": settings.FASTPIX_POLL_SECONDS if media.is_processing else None,
    }


def _source_stream(media: Media) -> dict[str, Any]:
    """The stream a recording came from, by name when FastPix still has it, and a title for the page."""
    stream_id = media.stream_id or ""
    name, gone, kind = "", False, "recording"
    if stream_id:
        try:
            stream = get_client().get_stream(stream_id)
        except NotFound:
            gone = True
        except FastPixError:
            pass  # the page still works; the stream is shown by its id
        else:
            name = stream.name
            # A live clip carries its stream's id too, but is not one of the stream's recordings (§3.13).
            kind = "recording" if media.id in stream.media_ids else "clip"
    if media.title:
        title = media.title
    elif name:
        title = f"{kind.capitalize()} of {name}"
    else:
        title = "Recording"
    return {"source_id": stream_id, "source_name": name, "source_gone": gone, "kind": kind, "title": title}


def recording_not_found(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "404.html",
        {
            "heading": "There is no such recording",
            "explanation": "FastPix has no recording or clip with this id. It may have been deleted, or the "
            "link may be incomplete. Recordings are listed on each stream's page and under Recordings.",
        },
        status=404,
    )


@require_GET
@requires("view_recordings")
@vary_on_headers("HX-Request", "HX-Target")
@never_cache
@fastpix_view
def recording_detail(request: HtmxHttpRequest, media_id: str) -> HttpResponse:
    """A recording or clip in the embedded FastPix player, with its details and share links."""
    client = get_client()
    try:
        media = client.get_media(media_id)
    except NotFound:
        return recording_not_found(request)
    context = {**_player_context(media), **_source_stream(media)}
    if _htmx_target(request) == "recording-body":
        response = render(request, "recordings/detail.html#recording-body", context)
        if context["poll_delay"] is None and request.htmx.trigger == "recording-poller":
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "recordings/detail.html", context)


# ---------------------------------------------------------------- all recordings


@dataclass(frozen=True)
class ListParams:
    page: int
    size: int
    ready: bool

    @classmethod
    def from_request(cls, request: HttpRequest) -> ListParams:
        size = positive_int(request.GET.get("size"), PAGE_SIZES[0])
        return cls(
            page=positive_int(request.GET.get("page"), 1),
            size=size if size in PAGE_SIZES else PAGE_SIZES[0],
            ready=request.GET.get("ready") == "1",
        )

    def query(self, **changes: Any) -> str:
        values: dict[str, Any] = {"page": self.page, "size": self.size, **changes}
        if changes.get("ready", self.ready):
            values["ready"] = 1
        else:
            values.pop("ready", None)
        return "?" + urlencode(values)


@require_GET
@requires("view_recordings")
@fastpix_view
def recording_list(request: HtmxHttpRequest) -> HttpResponse:
    """Recordings grouped by stream, newest streams first, paged along FastPix's own stream paging."""
    params = ListParams.from_request(request)
    page = get_client().list_streams(page=params.page, limit=params.size, order="desc")
    with_media = [stream for stream in page.items if stream.media_ids]
    # Every recording of every stream on this page, fetched side by side in one go, ordered per stream.
    per_stream = fetch_row_groups([newest_first(stream) for stream in with_media])
    groups = []
    for stream, stream_rows in zip(with_media, per_stream, strict=True):
        if params.ready:
            # A row FastPix did not return may well be ready: it stays, with its retry.
            stream_rows = [
                row for row in stream_rows if row.status == "ready" or (row.unavailable and not row.gone)
            ]
        if stream_rows:
            groups.append({"stream": stream, "rows": stream_rows})
    list_url = reverse("recording-list")
    context = {
        "params": params,
        "page": page,
        "groups": groups,
        "list_url": list_url,
        "page_sizes": PAGE_SIZES,
        "past_the_end": not page.items and page.total > 0,
        "retry_url": request.get_full_path(),
        "previous_url": list_url + params.query(page=params.page - 1) if page.has_previous else "",
        "next_url": list_url + params.query(page=params.page + 1) if page.has_next else "",
        "first_url": list_url + params.query(page=1),
        "all_url": list_url + params.query(page=1, ready=False),
    }
    return render(request, "recordings/list.html", context)
