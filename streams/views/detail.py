"""A stream's page: its detail, the page's live poll, and revealing ingest secrets.

The page asks FastPix once (the stream, authoritative) and applies that read to the mirror; everything
else it shows comes from the console's memory: viewers from the sampler's newest count, the audience
graph and the run-of-show (streams/workspace/history.py). Its poll reads only the database while the
worker keeps the mirror current, and answers with just the poller when nothing changed since it last
looked; without a mirror row or a working worker it falls back to one shared read of FastPix.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from streams import audit, encoders
from streams.client import FastPixError, LiveStream, NotFound, get_client, without_secrets
from streams.forms import RECONNECT_HINT
from streams.live import (
    fresh,
    note_statuses,
    remember_stream,
    submit,
    viewer_counts,
    views_of,
    workspace_version,
)
from streams.models import AuditEntry, MirroredStream, Readiness
from streams.roles import perm
from streams.views.common import HtmxHttpRequest, fastpix_view, requires, upstream_problem
from streams.views.streams import _poll_delay, actions_allowed
from streams.workspace import alerts, history, mirror, readiness
from streams.workspace.freshness import pulse

SECRET_FIELDS = {"stream_key": "Stream key", "srt_secret": "SRT secret"}


STALE_NOTE = (
    "Live data is stale: the console's worker has not sampled viewers lately, so this page asks FastPix "
    "itself and the audience graph is not growing."
)


def _poll_url(stream_id: str, token: str = "") -> str:
    url = reverse("stream-live", args=[stream_id])
    return f"{url}?v={token}" if token else url


def _memory_context(stream_id: str, row: MirroredStream | None) -> dict[str, Any]:
    """The parts of the page that come from the console's memory: the audience, the run-of-show and a drop."""
    seen = history.audience(row)
    return {
        "audience": seen,
        "timeline": history.timeline(stream_id, seen),
        "drop": alerts.drop_of(row),  # the banner: its changes bump the version, so polls bring them
        # The readiness lights (streams/workspace/readiness.py): the job bumps the version when one changes.
        "readiness": readiness.as_of(Readiness.objects.filter(stream_id=stream_id).first(), row),
        "show_memory": True,
    }


def _memory_html(memory: dict[str, Any], status: str) -> str:
    """The audience and run-of-show sections, rendered while FastPix answers the page's read."""
    context = {**memory, "status": status}
    return render_to_string("streams/_audience.html", context) + render_to_string(
        "streams/_timeline.html", context
    )


def _remembered(stream_id: str) -> dict[str, Any]:
    """What the page shows from the console's memory (the database only), read while FastPix answers."""
    # The poll token is taken before the memory is read: a change landing meanwhile makes the first poll
    # render it.
    now = pulse(stream_id)
    row = MirroredStream.objects.filter(stream_id=stream_id).first()
    memory = _memory_context(stream_id, row)
    return {
        "token": now.stream_token,
        "row": row,
        "sampling": now.freshness.sampling,
        "history": list(AuditEntry.objects.filter(stream_id=stream_id)[:10]),
        # With the status the mirror holds: when the page's read finds another, all this is read again.
        "memory_html": mark_safe(_memory_html(memory, row.status if row else "")),  # noqa: S308 - our templates
        **memory,
    }


def _detail_context(
    request: HtmxHttpRequest, stream: LiveStream, remembered: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    memory = dict(remembered) if remembered is not None else _remembered(stream.stream_id)
    row: MirroredStream | None = memory.pop("row")
    token, sampling = memory.pop("token"), memory.pop("sampling")
    if row is None:
        note_statuses([(stream.stream_id, stream.status)])  # no mirror row to keep when it went live
    views = None
    if stream.is_active:
        if sampling and row is not None and row.status == "active":
            views = row.viewers
        else:
            views = views_of(viewer_counts([stream.stream_id])[stream.stream_id])
    primary = stream.primary_playback_id
    return {
        "stream": stream,
        "stream_id": stream.stream_id,
        "status": stream.status,
        "views": views,
        "actions": actions_allowed(request, stream.status),
        "can_reveal": request.user.has_perm(perm("reveal_secrets")),
        # Encoder tabs for those who may see ingest details; secrets only from this reveal (if any).
        "setup": (
            encoders.setup(stream, extra.get("revealed") or {})
            if request.user.has_perm(perm("reveal_secrets"))
            else None
        ),
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
        "srt_url": encoders.srt_server(stream.stream_id),
        "poll_url": _poll_url(stream.stream_id, token),
        "poll_delay": _poll_delay(),
        "stale_note": STALE_NOTE if stream.is_active and not sampling else "",
        "reconnect_hint": RECONNECT_HINT,
        **memory,
        **extra,
    }


@require_GET
@requires("view_streams")
@vary_on_headers("HX-Request")
@fastpix_view
def stream_detail(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    started = timezone.now()
    # The page's one FastPix read runs while the memory (graph, run-of-show, history) is read from the
    # database, so the page takes about as long as FastPix does (bench/memory.py, the cold detail page).
    reading = submit(get_client().get_stream, stream_id)
    # Let the pool's thread put the request on the wire before this one takes the interpreter for a few
    # milliseconds of database work (otherwise the call may wait a switch interval, 5 ms, to be sent).
    time.sleep(0.001)
    remembered = _remembered(stream_id)
    # Meanwhile, the page as the mirror holds the stream. The page shows no secret, so when the read says
    # exactly what the mirror holds, this is the page the read renders, and it is ready as the read lands.
    row: MirroredStream | None = remembered["row"]
    held = mirror.as_stream(row) if row is not None and row.deleted_at is None else None
    early = _page(request, held, remembered) if held is not None else None
    try:
        stream = reading.result()
    except NotFound:
        mirror.forget(stream_id, started)
        raise  # fastpix_view: the friendly 404
    remember_stream(stream)  # the recordings fragment loads next and needs its mediaIds
    if early is not None and held == without_secrets(stream):
        return early  # the row holds the read (mirror.holds, with the row's stream built once): no write
    # As of when it was asked: every open page sees it on its next poll.
    if "status" in mirror.observe(stream, started).changes:
        remembered = _remembered(stream_id)  # the memory read meanwhile predates this: read it again
    return _page(request, stream, remembered)


def _page(request: HtmxHttpRequest, stream: LiveStream, remembered: dict[str, Any]) -> HttpResponse:
    return render(request, "streams/detail.html", _detail_context(request, stream, remembered))


def _read_status(stream_id: str) -> str:
    """One read of the stream for the fallback poll, applied to the mirror."""
    started = timezone.now()
    try:
        stream = get_client().get_stream(stream_id)
    except NotFound:
        mirror.forget(stream_id, started)
        raise
    mirror.observe(stream, started)
    return stream.status


def _gone(request: HtmxHttpRequest) -> HttpResponse:
    messages.error(request, "This stream no longer exists: it was deleted.")
    response = render(request, "streams/detail.html#stream-gone", {})
    return HttpResponseStopPolling(response.content)


@require_GET
@requires("view_streams")
@never_cache
def stream_live(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """The detail page's poll. While the worker keeps the mirror current it reads only the database: the
    poller carries the token it last saw (`?v=`), an unchanged token is answered with the poller alone,
    and a changed one with status, viewers, buttons, banner, audience and run-of-show, morphed in place.
    Without a mirror row or a working worker: one read of the stream shared by everyone on the page."""
    # One query says whether anything this page shows changed; read before the memory, so that a change
    # landing meanwhile shows next time.
    now = pulse(stream_id)
    sampling, token = now.freshness.sampling, now.stream_token
    poller = {"poll_url": _poll_url(stream_id, token), "poll_delay": _poll_delay()}
    if sampling and request.GET.get("v") == token:
        # The page rendered this very token from the mirror: nothing it shows has changed since.
        return render(request, "streams/detail.html#stream-poller", poller)
    row = MirroredStream.objects.filter(stream_id=stream_id).first()
    if row is None or not sampling:
        return _live_from_fastpix(request, stream_id, sampling)
    if row.deleted_at is not None:
        return _gone(request)
    status = row.status
    context: dict[str, Any] = {
        "stream_id": stream_id,
        "status": status,
        "views": row.viewers if status == "active" else None,
        "actions": actions_allowed(request, status),
        "checked_at": timezone.now(),
        "stale_note": "",
        **_memory_context(stream_id, row),
        **poller,
    }
    return render(request, "streams/detail.html#live-update", context)


def _live_from_fastpix(request: HtmxHttpRequest, stream_id: str, sampling: bool) -> HttpResponse:
    """The poll without the console's memory: the status from one read of the stream (shared for
    LIST_SHARE_SECONDS by everyone on the page, and never older than the console's own change)."""
    reading = fresh(
        f"status:{workspace_version()}:{stream_id}",
        lambda: _read_status(stream_id),
        ttl=float(settings.LIST_SHARE_SECONDS),
    )
    if not reading.failed and reading.value is None:
        return _gone(request)
    context: dict[str, Any] = {
        "stream_id": stream_id,
        "poll_url": _poll_url(stream_id),
        "checked_at": timezone.now(),
    }
    if reading.error is not None:
        # Nothing is known now: leave status, viewers and buttons as they are, say why, ask later.
        context.update(problem=upstream_problem(reading.error)[0], poll_delay=_poll_delay(failed=True))
        return render(request, "streams/detail.html#live-update", context)
    status = reading.value
    note_statuses([(stream_id, status)])
    views = None
    failed = False
    if status == "active":
        count = viewer_counts([stream_id])[stream_id]
        failed, views = count.failed, views_of(count)
    context.update(
        status=status,
        views=views,
        actions=actions_allowed(request, status),
        poll_delay=_poll_delay(failed),
        stale_note=STALE_NOTE if status == "active" and not sampling else "",
        **_memory_context(stream_id, MirroredStream.objects.filter(stream_id=stream_id).first()),
    )
    return render(request, "streams/detail.html#live-update", context)


@require_POST
@requires("reveal_secrets", audited="reveal")
@never_cache
@fastpix_view
def reveal_secret(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """Show one ingest secret to a user allowed to see it, and write that down in the audit log."""
    which = request.POST.get("secret", "")
    if which not in SECRET_FIELDS:
        audit.record(
            request, "reveal", stream_id=stream_id, outcome="refused", message="Refused: no such secret."
        )
        return HttpResponseBadRequest("Unknown secret.")
    try:
        stream = get_client().get_stream(stream_id)
    except FastPixError as exc:
        # Written whatever happened: someone asked to see a secret (fastpix_view explains the failure).
        audit.record(
            request,
            "reveal",
            stream_id=stream_id,
            outcome=audit.outcome_of(exc),
            message=f"{SECRET_FIELDS[which]} not revealed: {audit.message_of(exc)}",
        )
        raise
    audit.record(
        request,
        AuditEntry.Action.REVEAL,
        stream_id=stream.stream_id,
        stream_name=stream.name,
        outcome=AuditEntry.Outcome.DONE,
        message=f"{SECRET_FIELDS[which]} revealed",
    )
    remember_stream(stream)
    context = _detail_context(request, stream, revealed={which: getattr(stream, which)})
    if request.htmx:
        return render(request, "streams/detail.html#connection-card", context)
    return render(request, "streams/detail.html", context)
