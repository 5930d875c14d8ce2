"""The streams console: list, detail, live numbers, edit, create, and revealing ingest secrets."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from streams import audit
from streams.client import (
    FastPixError,
    LiveStream,
    NotFound,
    Order,
    Page,
    Unavailable,
    ValidationFailed,
    get_client,
)
from streams.forms import (
    NAME_KEY,
    RECONNECT_HINT,
    CreateStreamForm,
    StreamSettingsForm,
    fingerprint,
    metadata_formset,
)
from streams.fragments import render_each
from streams.live import (
    Reading,
    forget_stream,
    generation,
    note_statuses,
    remember_stream,
    shared,
    shared_cache,
    submit,
    viewer_counts,
    views_of,
)
from streams.models import AuditEntry
from streams.roles import perm
from streams.views.common import HtmxHttpRequest, fastpix_view, positive_int, requires, upstream_problem

PAGE_SIZES = (10, 25, 50)
ORDERS: dict[str, Order] = {"newest": "desc", "oldest": "asc"}
SECRET_FIELDS = {"stream_key": "Stream key", "srt_secret": "SRT secret"}


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class ListParams:
    page: int
    size: int
    order: str  # "newest" | "oldest"

    @classmethod
    def from_request(cls, request: HtmxHttpRequest) -> ListParams:
        page = positive_int(request.GET.get("page"), 1)
        size = positive_int(request.GET.get("size"), PAGE_SIZES[0])
        order = request.GET.get("order", "newest")
        return cls(
            page=page,
            size=size if size in PAGE_SIZES else PAGE_SIZES[0],
            order=order if order in ORDERS else "newest",
        )

    def query(self, **changes: Any) -> str:
        values = {"page": self.page, "size": self.size, "order": self.order, **changes}
        return "?" + urlencode(values)

    @property
    def cache_key(self) -> str:
        return f"page:{generation()}:{self.page}:{self.size}:{self.order}"


def _page_numbers(current: int, count: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: the first, the last and two either side; None marks a gap."""
    shown = sorted({1, count, *range(max(1, current - 2), min(count, current + 2) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def _role_flags(request: HtmxHttpRequest) -> dict[str, bool]:
    """The role's lifecycle permissions, read once per request (a page asks for every row)."""
    flags: dict[str, bool] | None = getattr(request, "_role_flags", None)
    if flags is None:
        user = request.user
        flags = {
            name: user.has_perm(perm(codename))
            for name, codename in (
                ("enable", "enable_stream"),
                ("disable", "disable_stream"),
                ("finish", "finish_stream"),
                ("delete", "delete_stream"),
                ("edit", "edit_stream"),
                ("create", "create_stream"),
            )
        }
        request._role_flags = flags  # type: ignore[attr-defined]
    return flags


def actions_allowed(request: HtmxHttpRequest, status: str) -> dict[str, bool]:
    """Which lifecycle buttons to show: the role allows it and the state permits it (contract §4.3)."""
    can = _role_flags(request)
    return {
        "enable": status == "disabled" and can["enable"],
        "disable": status in {"idle", "preparing", "active"} and can["disable"],
        "finish": status == "active" and can["finish"],
        "delete": can["delete"],
        "edit": status != "disabled" and can["edit"],
    }


def _poll_delay(failed: bool = False) -> int:
    return settings.LIVE_POLL_BACKOFF_SECONDS if failed else settings.LIVE_POLL_SECONDS


# ---------------------------------------------------------------- list


def _flags(actions: dict[str, bool]) -> tuple[str, ...]:
    return tuple(sorted(name for name, allowed in actions.items() if allowed))


class StreamRow(NamedTuple):
    """What the list shows of a stream, and all it keeps of it: no secrets, cheap to cache."""

    stream_id: str
    name: str
    status: str
    created_at: datetime | None
    max_resolution: str
    enable_recording: bool

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @classmethod
    def of(cls, s: LiveStream) -> StreamRow:
        return cls(s.stream_id, s.name, s.status, s.created_at, s.max_resolution, s.enable_recording)


def _row_content(row: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a list row shows, for its cached fragment's key."""
    return (*row["stream"], row["views"], _flags(row["actions"]), settings.TIME_ZONE)


@require_GET
@requires("view_streams")
@vary_on_headers("HX-Request")
@fastpix_view
def stream_list(request: HtmxHttpRequest) -> HttpResponse:
    params = ListParams.from_request(request)
    refresh = _wants_fresh(request)
    # The rendered table is shared too, by everyone with the same role, for as long as the page read
    # it shows: the common case (many people, the same page) costs one cache read.
    table_key = f"table:{params.cache_key}:{','.join(_flags(_role_flags(request)))}"
    table: tuple[float, int, str] | None = None if refresh else shared_cache().get(table_key)
    if table is None or time.time() - table[0] >= settings.LIST_SHARE_SECONDS:
        table = _render_table(request, params, refresh)
        shared_cache().set(table_key, table, timeout=60)
    _, total, html = table
    if request.htmx and not request.htmx.boosted and request.htmx.target == "stream-table":
        return HttpResponse(html)
    context = {
        "params": params,
        "total": total,
        "table": mark_safe(html),  # noqa: S308 - rendered from our template just now or moments ago
        "page_sizes": PAGE_SIZES,
        "list_url": reverse("stream-list"),
    }
    return render(request, "streams/list.html", context)


def _render_table(request: HtmxHttpRequest, params: ListParams, refresh: bool) -> tuple[float, int, str]:
    """The table of one page of streams: (when FastPix was read, total streams, HTML)."""
    # The streams that were live on this page last time are probably still live: fetch their viewer
    # counts alongside the list instead of after it (one round trip instead of two).
    known: Reading | None = shared_cache().get(params.cache_key)
    if known is not None and not known.failed:
        submit(viewer_counts, [s.stream_id for s in known.value.items if s.is_active])
    # Loads of the same page within LIST_SHARE_SECONDS share one FastPix call (a room of producers
    # opening the console at once); a reload in the browser always asks FastPix afresh.
    reading = shared(
        params.cache_key,
        lambda: _fetch_page(params),
        ttl=settings.LIST_SHARE_SECONDS,
        serve_stale=False,
        refresh=refresh,
    )
    if reading.failed:
        raise reading.value
    page: Page[StreamRow] = reading.value
    counts = viewer_counts(s.stream_id for s in page.items if s.is_active)
    rows = [
        {
            "stream": stream,
            "views": views_of(counts.get(stream.stream_id)),
            "actions": actions_allowed(request, stream.status),
        }
        for stream in page.items
    ]
    context = {
        "params": params,
        "page": page,
        "rows": render_each("streams/list.html#stream-row", rows, _row_content),
        "page_numbers": _page_numbers(params.page, page.page_count) if page.page_count > 1 else [],
        "past_the_end": not page.items and page.total > 0,
        "poll_url": reverse("stream-list-live") + params.query(),
        "poll_delay": _poll_delay(),
        "list_url": reverse("stream-list"),
        "can_create": _role_flags(request)["create"],
    }
    return reading.fetched_at, page.total, render_to_string("streams/list.html#stream-table", context)


def _wants_fresh(request: HtmxHttpRequest) -> bool:
    """A browser reload (Cache-Control: max-age=0 or no-cache) asks for FastPix's word, not ours."""
    directives = request.headers.get("Cache-Control", "").replace(" ", "").lower().split(",")
    return "no-cache" in directives or "max-age=0" in directives


def _fetch_page(params: ListParams) -> Page[StreamRow]:
    """One page of streams as the list shows it, fit to share through the cache (no secrets)."""
    page = get_client().list_streams(page=params.page, limit=params.size, order=ORDERS[params.order])
    note_statuses((s.stream_id, s.status) for s in page.items)
    return Page(
        items=tuple(StreamRow.of(s) for s in page.items), total=page.total, page=page.page, limit=page.limit
    )


@require_GET
@requires("view_streams")
@never_cache
def stream_list_live(request: HtmxHttpRequest) -> HttpResponse:
    """One poll for the whole page: status badges, viewer counts and row actions, as out-of-band swaps."""
    params = ListParams.from_request(request)
    reading = shared(params.cache_key, lambda: _fetch_page(params))
    statuses = (
        reading
        if reading.failed
        else Reading(tuple((s.stream_id, s.status, s.name) for s in reading.value.items), reading.fetched_at)
    )
    failed = statuses.failed
    cells = []
    if not failed:
        counts = viewer_counts(sid for sid, status, _ in statuses.value if status == "active")
        failed = any(reading.failed for reading in counts.values())
        cells = render_each(
            "streams/list.html#live-cell",
            [
                {
                    "stream_id": stream_id,
                    "status": status,
                    "name": name,
                    "views": views_of(counts.get(stream_id)),
                    "actions": actions_allowed(request, status),
                }
                for stream_id, status, name in statuses.value
            ],
            lambda cell: (
                cell["stream_id"],
                cell["status"],
                cell["name"],
                cell["views"],
                _flags(cell["actions"]),
            ),
        )
    context = {
        "cells": cells,
        "failed": failed,
        "problem": upstream_problem(statuses.value)[0] if statuses.failed else "",
        "poll_url": reverse("stream-list-live") + params.query(),
        "poll_delay": _poll_delay(failed),
        "checked_at": timezone.now(),
    }
    return render(request, "streams/list.html#live-cells", context)


# ---------------------------------------------------------------- detail


def _detail_context(request: HtmxHttpRequest, stream: LiveStream, **extra: Any) -> dict[str, Any]:
    note_statuses([(stream.stream_id, stream.status)])
    shared_cache().set(f"status:{stream.stream_id}", Reading(stream.status, time.time()), timeout=60)
    remember_stream(stream)  # the recordings fragment loads next and needs its mediaIds
    views = views_of(viewer_counts([stream.stream_id])[stream.stream_id]) if stream.is_active else None
    primary = stream.primary_playback_id
    history = AuditEntry.objects.filter(stream_id=stream.stream_id)[:10]
    return {
        "stream": stream,
        "views": views,
        "actions": actions_allowed(request, stream.status),
        "can_reveal": request.user.has_perm(perm("reveal_secrets")),
        "can_edit": request.user.has_perm(perm("edit_stream")),
        "revealed": {},
        "playback": [
            {"id": p.id, "policy": p.access_policy, "hls": f"{settings.FASTPIX_STREAM_URL}/{p.id}.m3u8"}
            for p in stream.playback_ids
        ],
        "player_url": (
            f"{settings.FASTPIX_PLAYER_URL}/?{urlencode({'playbackId': primary.id})}"
            if primary and primary.access_policy == "public"
            else ""
        ),
        "rtmps_url": settings.FASTPIX_RTMPS_URL,
        "srt_url": f"srt://{settings.FASTPIX_SRT_HOST}?streamid={stream.stream_id}",
        "poll_url": reverse("stream-live", args=[stream.stream_id]),
        "poll_delay": _poll_delay(),
        "history": history,
        "reconnect_hint": RECONNECT_HINT,
        **extra,
    }


@require_GET
@requires("view_streams")
@vary_on_headers("HX-Request")
@fastpix_view
def stream_detail(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    known: Reading | None = shared_cache().get(f"status:{stream_id}")
    if known is not None and known.value == "active":
        submit(viewer_counts, [stream_id])  # alongside the stream, not after it
    stream = get_client().get_stream(stream_id)
    return render(request, "streams/detail.html", _detail_context(request, stream))


@require_GET
@requires("view_streams")
@never_cache
def stream_live(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """The detail page's poll: status, viewers and the action buttons, as out-of-band swaps."""
    client = get_client()

    def fetch_status() -> str:
        status = client.get_stream(stream_id).status
        note_statuses([(stream_id, status)])
        return status

    status = shared(f"status:{stream_id}", fetch_status)
    if not status.failed and status.value is None:
        messages.error(request, "This stream no longer exists: it was deleted.")
        response = render(request, "streams/detail.html#stream-gone", {})
        return HttpResponseStopPolling(response.content)
    views = None
    failed = status.failed
    if not failed and status.value == "active":
        reading = viewer_counts([stream_id])[stream_id]
        failed = reading.failed
        views = views_of(reading)
    context = {
        "stream_id": stream_id,
        "status": None if status.failed else status.value,
        "views": views,
        "failed": failed,
        "actions": actions_allowed(request, status.value) if not status.failed else None,
        "poll_url": reverse("stream-live", args=[stream_id]),
        "poll_delay": _poll_delay(failed),
        "checked_at": timezone.now(),
        "problem": upstream_problem(status.value)[0] if status.failed else "",
    }
    return render(request, "streams/detail.html#live-update", context)


@require_POST
@requires("reveal_secrets")
@never_cache
@fastpix_view
def reveal_secret(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """Show one ingest secret to a user allowed to see it, and write that down in the audit log."""
    which = request.POST.get("secret", "")
    if which not in SECRET_FIELDS:
        return HttpResponseBadRequest("Unknown secret.")
    try:
        stream = get_client().get_stream(stream_id)
    except NotFound:
        audit.record(request, "reveal", stream_id=stream_id, outcome="refused", message="stream not found")
        raise
    audit.record(
        request,
        AuditEntry.Action.REVEAL,
        stream_id=stream.stream_id,
        stream_name=stream.name,
        outcome=AuditEntry.Outcome.DONE,
        message=f"{SECRET_FIELDS[which]} revealed",
    )
    context = _detail_context(request, stream, revealed={which: getattr(stream, which)})
    if request.htmx:
        return render(request, "streams/detail.html#connection-card", context)
    return render(request, "streams/detail.html", context)


# ---------------------------------------------------------------- edit


def _settings_context(
    request: HtmxHttpRequest, stream: LiveStream, form: StreamSettingsForm, formset: Any, **extra: Any
) -> dict[str, Any]:
    return {
        "stream": stream,
        "form": form,
        "formset": formset,
        "reconnect_hint": RECONNECT_HINT,
        "can_edit": True,
        **extra,
    }


def _render_edit(request: HtmxHttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "streams/edit.html#settings-form" if request.htmx else "streams/edit.html"
    return render(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
@requires("edit_stream")
@never_cache
@fastpix_view
def stream_edit(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    client = get_client()
    stream = client.get_stream(stream_id)
    if stream.is_disabled:
        context = {"stream": stream, "disabled": True}
        return _render_edit(request, context)

    if request.method == "GET":
        original = fingerprint(stream.metadata, stream.reconnect_window)
        form = StreamSettingsForm(initial={"reconnect_window": stream.reconnect_window, "original": original})
        return _render_edit(
            request, _settings_context(request, stream, form, metadata_formset(initial=stream.metadata))
        )

    form = StreamSettingsForm(request.POST)
    formset = metadata_formset(request.POST, add_row="add_row" in request.POST)
    if "add_row" in request.POST or not (form.is_valid() & formset.is_valid()):
        return _render_edit(request, _settings_context(request, stream, form, formset), status=200)

    metadata = formset.metadata()
    window = form.cleaned_data["reconnect_window"]
    current = fingerprint(stream.metadata, stream.reconnect_window)
    if form.cleaned_data["original"] != current:
        # Someone changed the stream since this form was opened: show both, overwrite nothing.
        data = request.POST.copy()
        data["original"] = current
        form = StreamSettingsForm(data)
        form.is_valid()
        context = _settings_context(request, stream, form, formset, conflict=True)
        return _render_edit(request, context, status=409)

    before = {"metadata": stream.metadata, "reconnectWindow": stream.reconnect_window}
    after = {"metadata": metadata, "reconnectWindow": window}
    try:
        updated = client.update_stream(stream_id, metadata=metadata, reconnect_window=window)
    except ValidationFailed as exc:
        audit.record(
            request,
            "edit",
            stream_id=stream_id,
            stream_name=stream.name,
            outcome="refused",
            message=audit.message_of(exc),
            before=before,
            after=after,
        )
        _attach_field_errors(exc, form, formset)
        return _render_edit(request, _settings_context(request, stream, form, formset), status=422)
    except FastPixError as exc:
        audit.record(
            request,
            "edit",
            stream_id=stream_id,
            stream_name=stream.name,
            outcome=audit.outcome_of(exc),
            message=audit.message_of(exc),
            before=before,
            after=after,
        )
        if isinstance(exc, NotFound):
            raise
        message = (
            "FastPix did not answer in time, so the change may or may not have been saved. "
            "The form shows the stream as FastPix has it now."
            if isinstance(exc, Unavailable)
            else f"FastPix did not save the change: {audit.message_of(exc)}"
        )
        form.add_error(None, message)
        return _render_edit(request, _settings_context(request, stream, form, formset), status=502)

    forget_stream(stream_id)
    audit.record(
        request,
        "edit",
        stream_id=stream_id,
        stream_name=updated.name or stream.name,
        outcome="done",
        before=before,
        after=after,
    )
    messages.success(request, "Saved. FastPix has the new metadata and reconnect window.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("stream-detail", args=[stream_id]))
    return redirect("stream-detail", stream_id=stream_id)


def _attach_field_errors(
    exc: ValidationFailed, form: StreamSettingsForm | CreateStreamForm, formset: Any
) -> None:
    """Put FastPix's 422 field errors next to the field they name (contract §7)."""
    rows = {row.cleaned_data.get("key"): row for row in formset.forms if hasattr(row, "cleaned_data")}
    for error in exc.fields or ():
        name = (
            error.field.rsplit(".", 1)[-1] if error.field.startswith("inputMediaSettings.") else error.field
        )
        if name == "reconnectWindow":
            form.add_error("reconnect_window", f"FastPix: {error.message}")
        elif name == "maxResolution" and "max_resolution" in form.fields:
            form.add_error("max_resolution", f"FastPix: {error.message}")
        elif error.field.startswith("metadata.") and error.field[len("metadata.") :] in rows:
            rows[error.field[len("metadata.") :]].add_error("value", f"FastPix: {error.message}")
        else:
            form.add_error(None, f"FastPix: {error.field} {error.message}")
    if not exc.fields:
        form.add_error(None, f"FastPix refused the values: {exc.message}")


# ---------------------------------------------------------------- create


@require_http_methods(["GET", "POST"])
@requires("create_stream")
@never_cache
def stream_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = CreateStreamForm(initial={"submission": uuid.uuid4()})
        return render(request, "streams/create.html", {"form": form, "formset": metadata_formset()})

    form = CreateStreamForm(request.POST)
    formset = metadata_formset(
        request.POST, add_row="add_row" in request.POST, reserved_keys=frozenset({NAME_KEY})
    )
    context = {"form": form, "formset": formset}
    if "add_row" in request.POST or not (form.is_valid() & formset.is_valid()):
        return render(request, "streams/create.html", context)

    data = form.cleaned_data
    metadata = formset.metadata()
    if data["name"].strip():
        metadata = {NAME_KEY: data["name"].strip(), **metadata}
    # One click creates one stream: the form's submission id may be used once, ever.
    submission_key = f"create:{data['submission']}"
    if not cache.add(submission_key, "pending", timeout=24 * 3600):
        existing = cache.get(submission_key)
        if existing and existing != "pending":
            messages.info(request, "This form was already submitted; here is the stream it created.")
            return redirect("stream-detail", stream_id=existing)
        form.add_error(None, "This form was already submitted and is still being processed. Check the list.")
        return render(request, "streams/create.html", context, status=409)

    try:
        stream = get_client().create_stream(
            access_policy=data["access_policy"],
            max_resolution=data["max_resolution"],
            reconnect_window=data["reconnect_window"],
            media_policy=data["media_policy"],
            metadata=metadata,
            enable_dvr_mode=data["enable_dvr_mode"],
            enable_recording=data["enable_recording"],
        )
    except FastPixError as exc:
        audit.record(
            request,
            "create",
            stream_name=metadata.get(NAME_KEY, ""),
            outcome=audit.outcome_of(exc),
            message=audit.message_of(exc),
            after={"metadata": metadata},
        )
        if isinstance(exc, ValidationFailed):
            cache.delete(submission_key)
            _attach_field_errors(exc, form, formset)
            return render(request, "streams/create.html", context, status=422)
        if isinstance(exc, Unavailable) and exc.maybe_processed:
            # Never retried blindly (it could make a second stream): look for it instead.
            return _create_outcome_unknown(request, context, metadata)
        cache.delete(submission_key)
        _, explanation = upstream_problem(exc)
        form.add_error(None, f"FastPix did not create the stream: {audit.message_of(exc)}. {explanation}")
        return render(request, "streams/create.html", context, status=502)

    cache.set(submission_key, stream.stream_id, timeout=24 * 3600)
    forget_stream(stream.stream_id)
    audit.record(
        request,
        "create",
        stream_id=stream.stream_id,
        stream_name=stream.name,
        outcome="done",
        after={"metadata": stream.metadata, "reconnectWindow": stream.reconnect_window},
    )
    messages.success(request, f"Created “{stream.name}”. It is idle until an encoder connects.")
    return redirect("stream-detail", stream_id=stream.stream_id)


def _create_outcome_unknown(
    request: HtmxHttpRequest, context: dict[str, Any], metadata: dict[str, str]
) -> HttpResponse:
    """After a timeout, re-read the newest streams to find one that matches what was sent."""
    candidates: list[LiveStream] = []
    try:
        newest = get_client().list_streams(page=1, limit=10, order="desc")
        candidates = [s for s in newest.items if s.metadata == metadata]
    except FastPixError:
        pass
    context = {**context, "timeout": True, "candidates": candidates}
    return render(request, "streams/create.html", context, status=504)
