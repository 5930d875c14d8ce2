"""FastPix's webhooks in, and the event inspector over what came in.

`fastpix_webhook` is the console's only door without a login and without CSRF: FastPix cannot sign in,
and it proves itself with the body's signature instead (streams/workspace/intake.py). It answers within
one transaction and never calls FastPix.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from streams.models import Incident, ReceivedEvent, WorkerRun
from streams.policy import is_stream_id
from streams.templatetags.console import span
from streams.views.common import HtmxHttpRequest, requires
from streams.workspace import intake, notify
from streams.workspace.freshness import freshness

log = logging.getLogger(__name__)

Verdict = ReceivedEvent.Verdict
PAGE_SIZE = 50
INCIDENTS_SHOWN = 20  # the newest incidents and their notifications, above the events
READ_CHUNK = 64 * 1024
SIZE_CEILING = 2**31 - 1  # ReceivedEvent.size is a PositiveIntegerField; a declared length may be anything
STATUS = {Verdict.REJECTED: 401, Verdict.MALFORMED: 400, Verdict.TOO_LARGE: 413}

# ---------------------------------------------------------------------------------------------- intake


def _declared_length(request: HttpRequest) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def _read_capped(request: HttpRequest, declared: int | None) -> bytes | None:
    """The raw body, or None when it is over MAX_BODY_BYTES. Never reads more than the limit + 1 bytes.

    With a Content-Length, Django reads at most that many. A chunked body has none, and Django would read
    nothing of it; a server that de-chunks says so with `wsgi.input_terminated` (gunicorn does), and then
    the input is read directly, up to the limit + 1."""
    limit = intake.MAX_BODY_BYTES
    if declared is not None:
        if declared > limit:
            return None
        return request.read(limit + 1)
    source: Any = request.META["wsgi.input"] if request.META.get("wsgi.input_terminated") else request
    body = bytearray()
    while len(body) <= limit:
        chunk = source.read(min(READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    return None if len(body) > limit else bytes(body)


@csrf_exempt
@login_not_required
@require_POST
def fastpix_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.FASTPIX_WEBHOOK_SECRET
    declared = _declared_length(request)
    size = min(declared or 0, SIZE_CEILING)
    if not secret:
        intake.record_refusal(
            Verdict.REJECTED,
            size=size,
            note="No FASTPIX_WEBHOOK_SECRET is configured: deliveries cannot be checked, so none is taken.",
        )
        return JsonResponse({"verdict": Verdict.REJECTED, "error": "webhooks are not configured"}, status=503)
    try:
        body = _read_capped(request, declared)
    except Exception as exc:  # the sender went away mid-body, or its chunks broke off: not all of it came
        intake.record_refusal(
            Verdict.MALFORMED,
            size=size,
            note=f"The body did not arrive whole ({type(exc).__name__}): not checked, nothing applied.",
        )
        return JsonResponse(
            {"verdict": Verdict.MALFORMED, "error": "the body did not arrive whole"}, status=400
        )
    if body is None:
        intake.record_refusal(
            Verdict.TOO_LARGE,
            size=size or intake.MAX_BODY_BYTES + 1,
            note=f"The body is over {intake.MAX_BODY_BYTES:,} bytes: not read, nothing applied.",
        )
        return JsonResponse({"verdict": Verdict.TOO_LARGE}, status=413)
    event = intake.receive(body, request.headers.get("FastPix-Signature"), secret=secret)
    return JsonResponse({"verdict": event.verdict}, status=STATUS.get(Verdict(event.verdict), 200))


# ------------------------------------------------------------------------------------------- inspector


@dataclass(frozen=True)
class Filters:
    stream: str
    verdict: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> Filters:
        verdict = request.GET.get("verdict", "")
        return cls(
            stream=request.GET.get("stream", "").strip().lower()[:64],
            verdict=verdict if verdict in Verdict.values else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.stream or self.verdict)

    def apply(self, events: Any) -> Any:
        if self.stream:
            events = events.filter(stream_id=self.stream)
        if self.verdict:
            events = events.filter(verdict=self.verdict)
        return events

    def query(self, **extra: Any) -> str:
        values = {k: v for k, v in (("stream", self.stream), ("verdict", self.verdict), *extra.items()) if v}
        return "?" + urlencode(values) if values else "?"


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _changes(event: ReceivedEvent) -> list[Change]:
    if not isinstance(event.changes, dict):
        return []
    return [
        Change(str(name), _text(pair[0]), _text(pair[1]))
        for name, pair in event.changes.items()
        if isinstance(pair, list) and len(pair) == 2
    ]


def age_text(seconds: float | None) -> str:
    """12.3 → "12 s ago"; 4320 → "1 h 12 min ago"; None → "never"."""
    if seconds is None:
        return "never"
    if seconds < 60:
        return f"{max(int(seconds), 0)} s ago"
    return f"{span(seconds)} ago"


JOB_LABELS = (
    ("last_event", "Last event received"),
    ("last_reconcile", "Last full reconcile"),
    ("last_sample", "Last viewer sample"),
    ("last_refresh", "Last refresh of live streams"),
)


@require_GET
@requires("inspect_events")
def event_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = Filters.from_request(request)
    events = filters.apply(ReceivedEvent.objects.all()).order_by("-received_at", "-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "linked": is_stream_id(event.stream_id),
            "changes": _changes(event),
            "payload": json.dumps(event.payload, indent=2, ensure_ascii=False)
            if event.payload is not None
            else "",
            "reapplicable": intake.reapplicable(event),
            "flagged": event.verdict in (Verdict.DUPLICATE, Verdict.OUT_OF_ORDER),
        }
        for event in page.object_list
    ]
    ages = freshness().ages()
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "verdicts": Verdict.choices,
        "freshness": [{"label": label, "age": age_text(ages[key])} for key, label in JOB_LABELS],
        "failing_jobs": WorkerRun.objects.exclude(error="").order_by("job"),
        "incidents": Incident.objects.prefetch_related("notifications")[:INCIDENTS_SHOWN],
        "alert_emails": settings.ALERT_EMAILS,
        "alert_webhook_host": notify.webhook_host(),  # the URL itself is a secret
        "webhooks_configured": bool(settings.FASTPIX_WEBHOOK_SECRET),
        "here": request.get_full_path(),
        "previous_query": filters.query(page=page.previous_page_number()) if page.has_previous() else "",
        "next_query": filters.query(page=page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "events/list.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    """To the inspector page the form was on (its filters and page), never anywhere else."""
    base = reverse("event-list")
    target = request.POST.get("next", "")
    if not target.startswith(base + "?") or "//" in target or "\\" in target:
        target = base
    return HttpResponseRedirect(target)


def _reapplied_text(event: ReceivedEvent, outcome: intake.Outcome) -> str:
    name = f"Event {event.event_type} ({event.event_id})"
    if outcome.verdict == Verdict.APPLIED:
        changed = ", ".join(
            f"{field} {_text(pair[0]) or '(none)'} → {_text(pair[1]) or '(none)'}"
            for field, pair in outcome.changes.items()
        )
        return f"{name} re-applied: changed {changed}."
    if outcome.verdict == Verdict.OUT_OF_ORDER:
        return f"{name} re-applied: {outcome.note or intake.OLDER}"
    if outcome.verdict == Verdict.UNCHANGED:
        return f"{name} re-applied: nothing changed. {outcome.note}".strip()
    return f"{name} re-applied: {Verdict(outcome.verdict).label}. {outcome.note}".strip()


@require_POST
@requires("inspect_events")
def event_reapply(request: HtmxHttpRequest) -> HttpResponse:
    raw_pk = request.POST.get("event", "")
    event = ReceivedEvent.objects.filter(pk=int(raw_pk)).first() if raw_pk.isdigit() else None
    if event is None:
        messages.error(
            request, "There is no such event (it may have been thinned away). Nothing was re-applied."
        )
        return _back(request)
    if not intake.reapplicable(event):
        messages.error(
            request,
            "Only a genuine event the console applied, or found duplicate or out of order, can be re-applied. "
            "Nothing was re-applied.",
        )
        return _back(request)
    outcome = intake.reapply(event)
    log.info(
        "%s re-applied FastPix event %r %r: %s",
        request.user.get_username(),
        event.event_type,
        event.event_id,
        outcome.verdict,
    )
    level = messages.SUCCESS if outcome.verdict == Verdict.APPLIED else messages.INFO
    messages.add_message(request, level, _reapplied_text(event, outcome))
    return _back(request)
