"""The streams console: list, detail, live numbers, edit, create, and revealing ingest secrets."""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url

from streams import audit, inflight, policy
from streams.client import (
    ApiError,
    FastPixError,
    LiveStream,
    NotFound,
    Order,
    Unavailable,
    ValidationFailed,
    get_client,
    may_have_acted,
)
from streams.forms import (
    RECONNECT_HINT,
    CreateStreamForm,
    StreamSettingsForm,
    fingerprint,
    metadata_formset,
)
from streams.live import (
    forget_stream,
    note_statuses,
    shared_cache,
    viewer_counts,
    views_of,
    workspace_version,
)
from streams.models import CreateSubmission, MirroredStream
from streams.policy import NAME_KEY
from streams.roles import perm
from streams.templatetags.console import stream_row
from streams.views.common import HtmxHttpRequest, fastpix_view, positive_int, requires, upstream_problem
from streams.workspace.freshness import Freshness, Pulse, pulse
from streams.workspace.search import (
    DEFAULT_SORT,
    SORTS,
    STATUS_FILTERS,
    Search,
    clean_query,
    count_all,
    find,
)

PAGE_SIZES = (10, 25, 50)
ORDERS: dict[str, Order] = {"newest": "desc", "oldest": "asc"}
PIN_OFF = ("off", "0", "false")


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class ListParams:
    """What the list shows, read from its URL. `mirrored`: the console's mirror answers, with search,
    filters, every sort and pinning; otherwise FastPix's own paging answers, newest or oldest first."""

    page: int
    size: int
    search: Search
    mirrored: bool

    @classmethod
    def from_request(cls, request: HtmxHttpRequest, *, mirrored: bool) -> ListParams:
        get = request.GET
        size = positive_int(get.get("size"), PAGE_SIZES[0])
        sort = get.get("sort", "")
        if sort not in SORTS:  # `order` is what FastPix paging's links carry: still understood
            sort = "created" if get.get("order") == "oldest" else DEFAULT_SORT
        status = get.get("status", "")
        # The form sends pin=off then, when the box is ticked, pin=on: the last one is what was chosen.
        pins = get.getlist("pin")
        return cls(
            page=positive_int(get.get("page"), 1),
            size=size if size in PAGE_SIZES else PAGE_SIZES[0],
            search=Search(
                q=clean_query(get.get("q")),
                status=status if status in STATUS_FILTERS else "",
                sort=sort,
                pin=not pins or pins[-1].lower() not in PIN_OFF,
            ),
            mirrored=mirrored,
        )

    @property
    def order(self) -> str:
        """FastPix's paging knows two orders, by creation: newest or oldest first."""
        return "oldest" if self.search.sort == "created" else "newest"

    def query(self, *, page: int | None = None, **changes: Any) -> str:
        """This list's query string, with some values changed, in the form its mode reads."""
        page = self.page if page is None else page
        if not self.mirrored:
            return "?" + urlencode({"page": page, "size": self.size, "order": self.order})
        wanted = dataclasses.replace(self.search, **changes)
        values: dict[str, Any] = {"q": wanted.q, "status": wanted.status}
        values = {name: value for name, value in values.items() if value}
        values.update(sort=wanted.sort, page=page, size=self.size)
        if not wanted.pin:
            values["pin"] = "off"
        return "?" + urlencode(values)

    @property
    def key(self) -> str:
        return f"{self.page}:{self.size}:{self.order}"


def _not_understood(get: Any) -> list[str]:
    """Values in the address the list does not know (a hand-edited or old link): each is replaced by its
    default, and the page says so rather than silently showing something else."""
    said: list[str] = []
    checks = (
        ("status", "status", lambda v: v in STATUS_FILTERS),
        ("sort", "sort", lambda v: v in SORTS),
        ("order", "order", lambda v: v in ORDERS),
        ("page", "page", lambda v: positive_int(v, 0) > 0),
        ("size", "rows per page", lambda v: positive_int(v, 0) in PAGE_SIZES),
    )
    for name, word, known in checks:
        value = get.get(name, "")
        if value and not known(value):
            said.append(f"{word} “{value if len(value) <= 40 else value[:40] + '…'}”")
    return said


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
    return {action: policy.allows(status, action) and can[action] for action in policy.ALLOWED_IN}


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

    @classmethod
    def mirrored(cls, row: MirroredStream) -> StreamRow:
        kept = row.settings or {}
        return cls(
            row.stream_id,
            row.name,
            row.status,
            row.created_at,
            str(kept.get("max_resolution") or ""),
            bool(kept.get("enable_recording")),
        )


def _rows_html(request: HtmxHttpRequest, rows: list[tuple[StreamRow, int | None]]) -> list[str]:
    return [stream_row(row, views, actions_allowed(request, row.status)) for row, views in rows]


@dataclass(frozen=True)
class Table:
    """One page of the list as rendered: when it was read, how many streams match, the HTML."""

    fetched_at: float
    total: int
    html: str
    counts_failed: bool = False  # some viewer count could not be read: polls slow down
    of_total: int | None = None  # with a search or filter: how many streams the workspace has


def _paging(params: ListParams, page_count: int) -> dict[str, Any]:
    """The page links, each keeping everything else the list was asked for."""
    if page_count <= 1:
        return {"page_links": [], "page_count": page_count}
    url = reverse("stream-list")
    return {
        "page_count": page_count,
        "page_links": [
            None
            if n is None
            else {"number": n, "url": url + params.query(page=n), "current": n == params.page}
            for n in _page_numbers(params.page, page_count)
        ],
        "previous_url": url + params.query(page=params.page - 1) if params.page > 1 else "",
        "next_url": url + params.query(page=params.page + 1) if params.page < page_count else "",
    }


def _table_context(
    request: HtmxHttpRequest, params: ListParams, total: int, page_count: int
) -> dict[str, Any]:
    return {
        "params": params,
        "total": total,
        "list_url": reverse("stream-list"),
        "first_page_url": reverse("stream-list") + params.query(page=1),
        "can_create": _role_flags(request)["create"],
        **_paging(params, page_count),
    }


@require_GET
@requires("view_streams")
@vary_on_headers("HX-Request")
@fastpix_view
def stream_list(request: HtmxHttpRequest) -> HttpResponse:
    now = pulse()  # read before the rows: a change meanwhile shows in the next poll
    fresh = now.freshness
    params = ListParams.from_request(request, mirrored=fresh.synced)
    if params.mirrored:
        token = _version_token(now)
        table = _mirror_table(request, params, fresh)
    else:
        token = ""
        table = _table(request, params, refresh=_wants_fresh(request))
    poller = {"poll_url": _poll_url(params, token), "poll_delay": _poll_delay()}
    notice = _notice(params, fresh)
    if request.htmx and not request.htmx.boosted and request.htmx.target == "stream-table":
        # A search, another page or order swapped in place: the poll must follow it, or it would morph
        # the page the user left back over this one. The count and the notice follow too.
        extra = render_to_string(
            "streams/list.html#list-follow",
            {**poller, **notice, "total": table.total, "of_total": table.of_total, "oob": True},
        )
        return push_url(HttpResponse(table.html + extra), reverse("stream-list") + params.query())
    context = {
        "params": params,
        "total": table.total,
        "of_total": table.of_total,
        "table": mark_safe(table.html),  # noqa: S308 - rendered from our template just now or moments ago
        "page_sizes": PAGE_SIZES,
        "sorts": SORTS,
        "status_filters": [(key, policy.status_word(status)) for key, status in STATUS_FILTERS.items()],
        "list_url": reverse("stream-list"),
        "not_understood": _not_understood(request.GET),
        **notice,
        **poller,
    }
    return render(request, "streams/list.html", context)


def _poll_url(params: ListParams, token: str) -> str:
    url = reverse("stream-list-live") + params.query()
    return f"{url}&v={token}" if token else url


def _version_token(now: Pulse) -> str:
    """What a poll carries to be answered without a render when nothing changed: the mirror's version.
    Empty while the sampler is late: the counts are then read from FastPix and change unseen by it."""
    return str(now.version) if now.freshness.sampling else ""


def _notice(params: ListParams, fresh: Freshness) -> dict[str, Any]:
    """What the page says about where its list comes from and how fresh it is."""
    if not params.mirrored:
        return {"mirrored": False, "not_applied": _not_applied(params.search)}
    moments = [m for m in (fresh.event_at, fresh.refreshed_at, fresh.reconciled_at) if m is not None]
    now = timezone.now()
    updated = max(moments) if moments else None
    return {
        "mirrored": True,
        "updated_ago": (now - updated).total_seconds() if updated else None,
        "sampling": fresh.sampling,
        "sampled_ago": (now - fresh.sampled_at).total_seconds() if fresh.sampled_at else None,
    }


def _not_applied(search: Search) -> list[str]:
    """What the URL asks for that FastPix's own paging cannot do: said, never silently ignored."""
    missing = []
    if search.q:
        missing.append(f"the search for “{search.q}”")
    if search.status:
        missing.append(f"the filter “{policy.status_word(STATUS_FILTERS[search.status])}”")
    if search.sort not in ("created", "-created"):
        missing.append(f"the order “{SORTS[search.sort].lower()}”")
    return missing


def _mirror_table(request: HtmxHttpRequest, params: ListParams, fresh: Freshness) -> Table:
    """One page of the list from the mirror: a count and one query, never a FastPix call while the
    sampler is current. While it is late, the active rows' counts are read as before (streams/live.py:
    shared, at most one call per stream per period) and the page says the worker is behind."""
    found = find(params.search, page=params.page, size=params.size)
    workspace_total = found.total
    if params.search.filtered or not found.total:
        workspace_total = count_all()
    rows = [StreamRow.mirrored(row) for row in found.rows]
    views: dict[str, int | None] = {row.stream_id: row.viewers for row in found.rows}
    counts_failed = False
    if not fresh.sampling:
        counts = viewer_counts(row.stream_id for row in rows if row.is_active)
        views = {stream_id: views_of(reading) for stream_id, reading in counts.items()}
        counts_failed = any(reading.failed for reading in counts.values())
    context = {
        **_table_context(request, params, found.total, found.page_count),
        "rows": _rows_html(
            request, [(row, views.get(row.stream_id) if row.is_active else None) for row in rows]
        ),
        "past_the_end": not found.rows and found.total > 0,
        "workspace_total": workspace_total,
        "no_match": workspace_total > 0 and found.total == 0,
        "search": params.search,
        "status_word": policy.status_word(STATUS_FILTERS.get(params.search.status, "")),
        "clear_search_url": reverse("stream-list") + params.query(page=1, q=""),
        "every_status_url": reverse("stream-list") + params.query(page=1, status=""),
    }
    html = render_to_string("streams/list.html#stream-table", context)
    of_total = workspace_total if params.search.filtered else None
    return Table(time.time(), found.total, html, counts_failed, of_total)


def _table(request: HtmxHttpRequest, params: ListParams, *, refresh: bool) -> Table:
    """Until the mirror is synced: FastPix's own paging. The rendered table of one page, shared for
    LIST_SHARE_SECONDS by everyone with the same role (a room of producers on one page costs one FastPix
    read and one render). When it is due, one request reads FastPix again and the others keep showing the
    previous table meanwhile, so that a hundred polls due at the same moment neither wait on FastPix nor
    each read it. Raises FastPixError."""
    cache = shared_cache()
    key = f"table:{workspace_version()}:{params.key}:{','.join(_flags(_role_flags(request)))}"
    lock = f"{key}:refreshing"
    locked = False
    if not refresh:
        table: Table | None = cache.get(key)
        if table is not None and time.time() - table.fetched_at < settings.LIST_SHARE_SECONDS:
            return table
        if table is not None:
            if not cache.add(lock, 1, timeout=int(inflight.lock_seconds())):
                return table  # someone is reading FastPix for it right now
            locked = True
            latest: Table | None = cache.get(key)  # read again: it may have been refreshed meanwhile
            if latest is not None and latest.fetched_at > table.fetched_at:
                cache.delete(lock)
                return latest
    try:
        table = _render_table(request, params)
        # Kept well past its share period, for the requests served while the next one is read.
        cache.set(key, table, timeout=max(int(settings.LIST_SHARE_SECONDS) * 15, 30))
        return table
    finally:
        if locked:
            cache.delete(lock)


def _render_table(request: HtmxHttpRequest, params: ListParams) -> Table:
    client = get_client()
    page = client.list_streams(page=params.page, limit=params.size, order=ORDERS[params.order])
    fetched_at = time.time()
    note_statuses((s.stream_id, s.status) for s in page.items)
    counts = viewer_counts(s.stream_id for s in page.items if s.is_active)
    rows = [(StreamRow.of(stream), views_of(counts.get(stream.stream_id))) for stream in page.items]
    context = {
        **_table_context(request, params, page.total, page.page_count),
        "rows": _rows_html(request, rows),
        "past_the_end": not page.items and page.total > 0,
    }
    html = render_to_string("streams/list.html#stream-table", context)
    return Table(fetched_at, page.total, html, any(reading.failed for reading in counts.values()))


def _wants_fresh(request: HtmxHttpRequest) -> bool:
    """A browser reload (Cache-Control: max-age=0 or no-cache) asks for FastPix's word, not ours."""
    directives = request.headers.get("Cache-Control", "").replace(" ", "").lower().split(",")
    return "no-cache" in directives or "max-age=0" in directives


@require_GET
@requires("view_streams")
@never_cache
def stream_list_live(request: HtmxHttpRequest) -> HttpResponse:
    """One poll for the whole page: the table as it is now (rows, their status, viewers and buttons, and
    rows gone or new), morphed into place so that nothing the user is on is replaced, and the count.

    From the mirror, a poll that carries the mirror's version it last saw and finds it unchanged is
    answered with the poller alone (and the notice, whose age moves on): nothing is rendered."""
    now = pulse()  # one query: the version and how fresh the memory is
    fresh = now.freshness
    params = ListParams.from_request(request, mirrored=fresh.synced)
    token = _version_token(now) if params.mirrored else ""
    context: dict[str, Any] = {"poll_url": _poll_url(params, token), **_notice(params, fresh)}
    if token and request.GET.get("v") == token:
        return render(request, "streams/list.html#list-update", {**context, "poll_delay": _poll_delay()})
    try:
        if params.mirrored:
            table = _mirror_table(request, params, fresh)
        else:
            table = _table(request, params, refresh=False)
    except FastPixError as exc:
        return render(
            request,
            "streams/list.html#list-update",
            {**context, "problem": upstream_problem(exc)[0], "poll_delay": _poll_delay(failed=True)},
        )
    # The table is the page's own markup; marked out-of-band here so htmx morphs it into place.
    html = table.html.replace('<div id="stream-table"', '<div id="stream-table" hx-swap-oob="morph"', 1)
    context.update(
        table=mark_safe(html),  # noqa: S308 - rendered from our template just now or moments ago
        total=table.total,
        of_total=table.of_total,
        poll_delay=_poll_delay(failed=table.counts_failed),
    )
    return render(request, "streams/list.html#list-update", context)


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
@requires("edit_stream", audited="edit")
@never_cache
@fastpix_view
def stream_edit(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    if request.method != "POST" or "add_row" in request.POST:
        return _edit(request, stream_id)
    # A save is a mutation: one in flight per stream (a double submit, a second tab), as for the actions.
    mine, theirs = inflight.begin(stream_id, "edit", request.user)
    if mine is None:
        return _edit_duplicate(request, stream_id, theirs)
    try:
        return _edit(request, stream_id)
    finally:
        outcome, text = getattr(request, "edit_result", ("unknown", "The console stopped before it knew."))
        level = messages.SUCCESS if outcome == "done" else messages.ERROR
        inflight.finish(mine, outcome=outcome, level=level, text=text)


def _edit_duplicate(
    request: HtmxHttpRequest, stream_id: str, theirs: inflight.ActionAttempt | None
) -> HttpResponse:
    """The same save again while the first is in flight: send nothing, answer with the first's result."""
    done = inflight.wait_for(theirs) if theirs is not None else None
    outcome = done.outcome if done is not None else "still in flight"
    audit.record(
        request,
        "edit",
        stream_id=stream_id,
        outcome="duplicate",
        message=f"Not sent: a save of this stream was already in flight ({outcome}).",
    )
    if done is not None and done.outcome == "done":
        messages.info(
            request, "That change was already sent (a second click or tab), so it was sent once: saved."
        )
    else:
        text = done.text if done is not None else "FastPix has not answered it yet."
        messages.warning(
            request, f"That change was already sent (a second click or tab), so it was not sent twice. {text}"
        )
    if request.htmx:
        return HttpResponseClientRedirect(reverse("stream-detail", args=[stream_id]))
    return redirect("stream-detail", stream_id=stream_id)


def _edit(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    client = get_client()
    posted = request.method == "POST" and "add_row" not in request.POST
    try:
        stream = client.get_stream(stream_id)
    except FastPixError as exc:
        if posted:  # every attempt is audited, even one that could not start
            message = (
                f"Nothing was sent: the console could not read the stream first ({audit.message_of(exc)})."
            )
            audit.record(request, "edit", stream_id=stream_id, outcome=audit.outcome_of(exc), message=message)
            request.edit_result = (audit.outcome_of(exc), message)  # type: ignore[attr-defined]
        raise
    if stream.is_disabled:
        if posted:
            _audit_edit(
                request,
                stream,
                "refused",
                "Refused by the console: the stream is disabled. Nothing was sent.",
            )
        return _render_edit(request, {"stream": stream, "disabled": True})

    if request.method == "GET":
        original = fingerprint(stream.metadata, stream.reconnect_window)
        form = StreamSettingsForm(initial={"reconnect_window": stream.reconnect_window, "original": original})
        return _render_edit(
            request, _settings_context(request, stream, form, metadata_formset(initial=stream.metadata))
        )

    form = StreamSettingsForm(request.POST)
    formset = metadata_formset(request.POST, add_row="add_row" in request.POST)
    if not posted or not (form.is_valid() & formset.is_valid()):
        if posted:
            _audit_edit(
                request, stream, "refused", "Refused by the console: the form has errors. Nothing was sent."
            )
        return _render_edit(request, _settings_context(request, stream, form, formset), status=200)

    metadata = formset.metadata()
    window = form.cleaned_data["reconnect_window"]
    before = {"metadata": stream.metadata, "reconnectWindow": stream.reconnect_window}
    after = {"metadata": metadata, "reconnectWindow": window}
    current = fingerprint(stream.metadata, stream.reconnect_window)
    if metadata == stream.metadata and window == stream.reconnect_window:
        # FastPix already has exactly this (the same form saved a moment ago): nothing to send.
        _audit_edit(request, stream, "done", "Not sent: FastPix already had these values.", before, after)
        messages.success(request, "Saved. FastPix already had these values, so nothing needed sending.")
        if request.htmx:
            return HttpResponseClientRedirect(reverse("stream-detail", args=[stream_id]))
        return redirect("stream-detail", stream_id=stream_id)
    if form.cleaned_data["original"] != current:
        # Someone changed the stream since this form was opened: show both, overwrite nothing.
        _audit_edit(
            request,
            stream,
            "refused",
            "Not sent: the stream changed since the form was opened.",
            before,
            after,
        )
        data = request.POST.copy()
        data["original"] = current
        form = StreamSettingsForm(data)
        form.is_valid()
        context = _settings_context(request, stream, form, formset, conflict=True)
        return _render_edit(request, context, status=409)

    try:
        updated = client.update_stream(stream_id, metadata=metadata, reconnect_window=window)
    except ValidationFailed as exc:
        _audit_edit(request, stream, "refused", audit.message_of(exc), before, after)
        _attach_field_errors(exc, form, formset)
        return _render_edit(request, _settings_context(request, stream, form, formset), status=422)
    except NotFound as exc:
        _audit_edit(request, stream, "refused", audit.message_of(exc), before, after)
        raise
    except FastPixError as exc:
        saved = _saved_after_uncertain_answer(stream_id, metadata, window) if may_have_acted(exc) else False
        if saved is None or not saved:
            outcome = "unknown" if saved is None else "failed"
            _audit_edit(request, stream, outcome, audit.message_of(exc), before, after)
            form.add_error(None, _edit_failure_text(exc, saved))
            return _render_edit(request, _settings_context(request, stream, form, formset), status=502)
        updated = stream  # FastPix has exactly what was sent: it was saved

    forget_stream(stream_id)
    _audit_edit(request, stream, "done", "", before, after, name=updated.name)
    messages.success(request, "Saved. FastPix has the new metadata and reconnect window.")
    if request.htmx:
        return HttpResponseClientRedirect(reverse("stream-detail", args=[stream_id]))
    return redirect("stream-detail", stream_id=stream_id)


def _audit_edit(
    request: HtmxHttpRequest,
    stream: LiveStream,
    outcome: str,
    message: str,
    before: Any = None,
    after: Any = None,
    *,
    name: str = "",
) -> None:
    # Also what the save's in-flight row is closed with, for a duplicate waiting on it.
    text = "Saved." if outcome == "done" else f"Not saved: {message}" if message else "Not saved."
    request.edit_result = (outcome, text)  # type: ignore[attr-defined]
    audit.record(
        request,
        "edit",
        stream_id=stream.stream_id,
        stream_name=name or stream.name,
        outcome=outcome,
        message=message,
        before=before,
        after=after,
    )


def _saved_after_uncertain_answer(stream_id: str, metadata: dict[str, str], window: int) -> bool | None:
    """After a 5xx or a timeout on the PATCH: does FastPix now hold exactly what was sent? None: unknown."""
    forget_stream(stream_id)
    try:
        now = get_client().get_stream(stream_id)
    except FastPixError:
        return None
    return now.metadata == metadata and now.reconnect_window == window


def _edit_failure_text(exc: FastPixError, saved: bool | None) -> str:
    if saved is None:
        return (
            "FastPix did not answer properly, and the stream could not be read afterwards, so it is not "
            "known whether the change was saved. Open the stream again to check before saving again."
        )
    if may_have_acted(exc):
        return (
            "FastPix did not answer properly, and it does not have your change: nothing was saved. "
            "Your version is still in the form; save again to retry."
        )
    _, explanation = upstream_problem(exc)
    return f"FastPix did not save the change: {audit.message_of(exc)}. {explanation}"


def _attach_field_errors(
    exc: ValidationFailed, form: StreamSettingsForm | CreateStreamForm, formset: Any
) -> None:
    """Put FastPix's 422 field errors next to the field they name (contract §7)."""
    rows = {
        row.cleaned_data.get("key"): row
        for row in formset.forms
        if hasattr(row, "cleaned_data") and not row.cleaned_data.get("DELETE")
    }
    for error in exc.fields or ():
        # The create body nests its settings (inputMediaSettings.metadata.<key>); the PATCH body does not.
        # Only that prefix is removed: a metadata key may itself contain dots or look like a setting.
        name = error.field.removeprefix("inputMediaSettings.")
        key = name[len("metadata.") :] if name.startswith("metadata.") else None
        if name == "reconnectWindow":
            form.add_error("reconnect_window", f"FastPix: {error.message}")
        elif name == "maxResolution" and "max_resolution" in form.fields:
            form.add_error("max_resolution", f"FastPix: {error.message}")
        elif key is not None and key in rows:
            rows[key].add_error("value", f"FastPix: {error.message}")
        elif key == NAME_KEY and "name" in form.fields:  # the create form's Name is that entry
            form.add_error("name", f"FastPix: {error.message}")
        else:
            form.add_error(None, f"FastPix: {error.field} {error.message}")
    if not exc.fields:
        form.add_error(None, f"FastPix refused the values: {exc.message}")


# ---------------------------------------------------------------- create

# How far back from a submission a stream FastPix lists may have been created by it (clocks differ).
CREATE_CLOCK_SLACK = timedelta(minutes=2)
Submission = CreateSubmission.State


@require_http_methods(["GET", "POST"])
@requires("create_stream", audited="create")
@never_cache
def stream_create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = CreateStreamForm(initial={"submission": uuid.uuid4()})
        return render(request, "streams/create.html", {"form": form, "formset": metadata_formset()})

    form = CreateStreamForm(request.POST)
    formset = metadata_formset(
        request.POST, add_row="add_row" in request.POST, reserved_keys=frozenset({NAME_KEY})
    )
    context: dict[str, Any] = {"form": form, "formset": formset}
    if "add_row" in request.POST:
        return render(request, "streams/create.html", context)
    if not (form.is_valid() & formset.is_valid()):
        audit.record(
            request,
            "create",
            stream_name=str(request.POST.get("name", "")),
            outcome="refused",
            message="Refused by the console: the form has errors. Nothing was sent to FastPix.",
        )
        return render(request, "streams/create.html", context)

    data = form.cleaned_data
    name = data["name"].strip()
    metadata = {NAME_KEY: name, **formset.metadata()}
    submission, first = _claim_submission(data["submission"], request, name)
    if not first:
        return _answer_duplicate(request, context, submission, metadata)
    if submission.state == Submission.UNKNOWN:
        # An earlier attempt's outcome was not known: look for its stream before sending anything.
        found = _find_created(submission, metadata)
        if found is not None:
            return _created(
                request, submission, found, metadata, note="It was created by the earlier attempt."
            )
    return _send_create(request, context, submission, data, metadata)


def _claim_submission(
    submission_id: uuid.UUID, request: HtmxHttpRequest, name: str
) -> tuple[CreateSubmission, bool]:
    """(row, True) when this request may send the create now, (row, False) for a duplicate of an attempt
    in flight or of one that created the stream. The primary key makes this hold across processes. A
    not-created or unknown submission, or a pending one whose process died, may be taken again; the row
    returned then still carries its previous state, so that an unknown outcome is looked for first."""
    now = timezone.now()
    try:
        with transaction.atomic():
            row = CreateSubmission.objects.create(
                id=submission_id,
                user=request.user if request.user.is_authenticated else None,
                name=name[:255],
                submitted_at=now,
                attempt_started_at=now,
                state=Submission.PENDING,
            )
        return row, True
    except IntegrityError:
        row = CreateSubmission.objects.get(pk=submission_id)
    stale = now - timedelta(seconds=inflight.lock_seconds())
    retakable = row.state in {Submission.NOT_CREATED, Submission.UNKNOWN} or (
        row.state == Submission.PENDING and row.attempt_started_at < stale
    )
    # Conditional on the state we saw: of two requests retaking it at once, one wins.
    if retakable and CreateSubmission.objects.filter(
        pk=submission_id, state=row.state, attempt_started_at=row.attempt_started_at
    ).update(state=Submission.PENDING, attempt_started_at=now):
        return row, True
    return row, False


def _settle(submission: CreateSubmission, state: str, *, stream_id: str = "", text: str = "") -> None:
    CreateSubmission.objects.filter(pk=submission.pk).update(state=state, stream_id=stream_id, text=text)


def _send_create(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    submission: CreateSubmission,
    data: dict[str, Any],
    metadata: dict[str, str],
) -> HttpResponse:
    form = context["form"]
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
        if may_have_acted(exc):
            # Never sent again blindly (it could make a second stream): look for it instead.
            found = _find_created(submission, metadata)
            if found is not None:
                note = f"FastPix's answer was lost ({audit.message_of(exc)}), but the stream is in its list."
                return _created(request, submission, found, metadata, note=note)
            return _create_unknown(request, context, submission, metadata, exc)
        text = f"FastPix did not create the stream: {audit.message_of(exc)}."
        _settle(submission, Submission.NOT_CREATED, text=text)
        _audit_create(request, metadata, audit.outcome_of(exc), audit.message_of(exc))
        if isinstance(exc, ValidationFailed):
            _attach_field_errors(exc, form, context["formset"])
            return render(request, "streams/create.html", context, status=422)
        _, explanation = upstream_problem(exc)
        form.add_error(None, f"{text} {explanation} Nothing was created; what you typed is kept below.")
        return render(request, "streams/create.html", context, status=502)
    if not stream.stream_id:
        # FastPix said created but sent no usable id: the list says which stream it is.
        found = _find_created(submission, metadata)
        if found is not None:
            return _created(request, submission, found, metadata)
        error = ApiError(
            201, "FastPix sent a created stream without a usable id", method="POST", path="/live/streams"
        )
        return _create_unknown(request, context, submission, metadata, error)
    return _created(request, submission, stream, metadata)


def _created(
    request: HtmxHttpRequest,
    submission: CreateSubmission,
    stream: LiveStream,
    metadata: dict[str, str],
    *,
    note: str = "",
) -> HttpResponse:
    text = f"Created “{stream.name}”. It is idle until an encoder connects."
    if note:
        text += f" {note}"
    _settle(submission, Submission.CREATED, stream_id=stream.stream_id, text=text)
    forget_stream(stream.stream_id)
    audit.record(
        request,
        "create",
        stream_id=stream.stream_id,
        stream_name=stream.name,
        outcome="done",
        message=note,
        after={"metadata": metadata, "reconnectWindow": stream.reconnect_window},
    )
    messages.success(request, text)
    return redirect("stream-detail", stream_id=stream.stream_id)


def _create_unknown(
    request: HtmxHttpRequest,
    context: dict[str, Any],
    submission: CreateSubmission,
    metadata: dict[str, str],
    exc: FastPixError,
) -> HttpResponse:
    what = (
        "did not answer in time"
        if isinstance(exc, Unavailable)
        else f"answered with an error ({audit.message_of(exc)})"
    )
    text = (
        f"FastPix {what}, and the new stream is not in its list yet, so it is not known whether it was "
        "created. The console did not send it again (that could create it twice)."
    )
    _settle(submission, Submission.UNKNOWN, text=text)
    _audit_create(request, metadata, "unknown", f"{audit.message_of(exc)}; not found in the list afterwards.")
    return render(request, "streams/create.html", {**context, "unknown": text}, status=504)


def _answer_duplicate(
    request: HtmxHttpRequest, context: dict[str, Any], submission: CreateSubmission, metadata: dict[str, str]
) -> HttpResponse:
    """The same form again while its first submission is in flight, or after it created the stream: wait
    for the first one's outcome and answer with it. Nothing is sent to FastPix."""
    deadline = time.monotonic() + inflight.lock_seconds()
    row = submission
    while row.state == Submission.PENDING and time.monotonic() < deadline:
        time.sleep(inflight.WAIT_STEP)
        row = CreateSubmission.objects.get(pk=submission.pk)
    _audit_create(
        request,
        metadata,
        "duplicate",
        f"Not sent: this form was already submitted ({row.get_state_display().lower()}).",
    )
    if row.state == Submission.CREATED:
        messages.info(request, "This form was already submitted; here is the stream it created.")
        return redirect("stream-detail", stream_id=row.stream_id)
    form = context["form"]
    if row.state == Submission.PENDING:
        form.add_error(
            None,
            "This form was already submitted and FastPix has not answered it yet. Check the list in a moment.",
        )
        return render(request, "streams/create.html", context, status=409)
    form.add_error(None, f"This form was already submitted: {row.text}")
    return render(request, "streams/create.html", context, status=409)


def _audit_create(request: HtmxHttpRequest, metadata: dict[str, str], outcome: str, message: str) -> None:
    audit.record(
        request,
        "create",
        stream_name=metadata.get(NAME_KEY, ""),
        outcome=outcome,
        message=message,
        after={"metadata": metadata},
    )


def _find_created(submission: CreateSubmission, metadata: dict[str, str]) -> LiveStream | None:
    """The stream this submission made, if FastPix lists it: newest first, created after the submission
    (less clock slack), with exactly the metadata sent, and not claimed by another submission. None when
    it is not there or the list cannot be read."""
    since = submission.submitted_at - CREATE_CLOCK_SLACK
    claimed = set(
        CreateSubmission.objects.exclude(pk=submission.pk)
        .exclude(stream_id="")
        .values_list("stream_id", flat=True)
    )
    client = get_client()
    try:
        for number in range(1, 4):  # newest first: three pages reach well past anything just created
            page = client.list_streams(page=number, limit=50, order="desc")
            for stream in page.items:
                if stream.created_at is not None and stream.created_at < since:
                    return None
                if stream.metadata == metadata and stream.stream_id not in claimed:
                    return stream
            if not page.has_next:
                return None
    except FastPixError:
        return None
    return None
