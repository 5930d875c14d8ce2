"""A stream's page: its detail, the page's live poll, and revealing ingest secrets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from streams import audit
from streams.client import FastPixError, LiveStream, get_client
from streams.forms import RECONNECT_HINT
from streams.live import fresh, note_statuses, remember_stream, viewer_counts, views_of, workspace_version
from streams.models import AuditEntry
from streams.roles import perm
from streams.views.common import HtmxHttpRequest, fastpix_view, requires, upstream_problem
from streams.views.streams import _poll_delay, actions_allowed

SECRET_FIELDS = {"stream_key": "Stream key", "srt_secret": "SRT secret"}


def _detail_context(request: HtmxHttpRequest, stream: LiveStream, **extra: Any) -> dict[str, Any]:
    note_statuses([(stream.stream_id, stream.status)])
    remember_stream(stream)  # the recordings fragment loads next and needs its mediaIds
    views = views_of(viewer_counts([stream.stream_id])[stream.stream_id]) if stream.is_active else None
    primary = stream.primary_playback_id
    history = AuditEntry.objects.filter(stream_id=stream.stream_id)[:10]
    return {
        "stream": stream,
        "stream_id": stream.stream_id,
        "status": stream.status,
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
    stream = get_client().get_stream(stream_id)
    return render(request, "streams/detail.html", _detail_context(request, stream))


@require_GET
@requires("view_streams")
@never_cache
def stream_live(request: HtmxHttpRequest, stream_id: str) -> HttpResponse:
    """The detail page's poll: status, viewers and the action buttons, all from one read of the stream
    (shared for LIST_SHARE_SECONDS by everyone on the page, and never older than the console's own change)."""
    reading = fresh(
        f"status:{workspace_version()}:{stream_id}",
        lambda: get_client().get_stream(stream_id).status,
        ttl=float(settings.LIST_SHARE_SECONDS),
    )
    if not reading.failed and reading.value is None:
        messages.error(request, "This stream no longer exists: it was deleted.")
        response = render(request, "streams/detail.html#stream-gone", {})
        return HttpResponseStopPolling(response.content)
    context: dict[str, Any] = {
        "stream_id": stream_id,
        "poll_url": reverse("stream-live", args=[stream_id]),
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
    context = _detail_context(request, stream, revealed={which: getattr(stream, which)})
    if request.htmx:
        return render(request, "streams/detail.html#connection-card", context)
    return render(request, "streams/detail.html", context)
