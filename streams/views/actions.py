"""Lifecycle actions with confirmation: enable, disable, finish, delete (contract §3.6-3.9, §4.3).

GET shows what will happen (the dialog's fragment for htmx, a page with a POST form otherwise) and never
changes anything. POST checks the role's permission in the view (a forged POST gets 403 and an audit
entry, and nothing reaches FastPix), takes a short lock so a double click sends one request, calls
FastPix, writes the audit entry whatever happened, and says what happened: FastPix is the authority on
what is legal, so the console never refuses an action on the state it last saw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from streams import audit
from streams.client import (
    FastPixClient,
    FastPixError,
    Forbidden,
    InvalidState,
    LiveStream,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
    get_client,
)
from streams.live import forget_stream, live_for, note_statuses, viewer_counts, views_of
from streams.models import AuditEntry
from streams.roles import perm
from streams.views.common import HtmxHttpRequest, stream_gone, upstream_error_response, upstream_problem
from streams.views.streams import actions_allowed

Outcome = AuditEntry.Outcome

# Two identical POSTs this close together send one request (a double click, a resubmitted form).
DOUBLE_SUBMIT_SECONDS = 5
HISTORY_SIZE = 10

STATUS_WORDS = {"active": "live", "preparing": "preparing", "idle": "idle", "disabled": "disabled"}
ENABLED = frozenset({"idle", "preparing", "active"})
EVERY_STATE = frozenset({"idle", "preparing", "active", "disabled"})


@dataclass(frozen=True)
class Action:
    name: str  # enable | disable | finish | delete, also the audit action
    permission: str
    verb: str  # "finish"
    past: str  # "finished"
    button: str  # the confirm button's label
    button_class: str
    allowed_in: frozenset[str]  # contract §4.3
    already_done: str  # the phrase of FastPix's 400 that means "nothing to do, it is so" ("" if none)
    status_after: str  # what FastPix reports after success ("" after delete)
    call: Callable[[FastPixClient, str], None]


ACTIONS = {
    "enable": Action(
        "enable", "enable_stream", "enable", "enabled", "Enable stream", "primary",
        frozenset({"disabled"}), "already enabled", "idle", FastPixClient.enable_stream,
    ),
    "disable": Action(
        "disable", "disable_stream", "disable", "disabled", "Disable stream", "danger",
        ENABLED, "already disabled", "disabled", FastPixClient.disable_stream,
    ),
    "finish": Action(
        "finish", "finish_stream", "finish", "finished", "Finish broadcast", "danger",
        frozenset({"active"}), "", "idle", FastPixClient.finish_stream,
    ),
    "delete": Action(
        "delete", "delete_stream", "delete", "deleted", "Delete stream", "danger",
        EVERY_STATE, "", "", FastPixClient.delete_stream,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Result:
    """What an attempt came to, in the words the user reads, and the stream as FastPix has it now."""

    outcome: str  # AuditEntry.Outcome
    level: int  # django.contrib.messages level
    text: str
    stream: LiveStream | None  # None when it is gone or could not be read
    gone: bool = False
    fastpix_message: str = ""  # FastPix's own words, for the audit log


# ---------------------------------------------------------------- helpers


def _views(stream: LiveStream | None) -> int | None:
    """The approximate viewer count of an active stream (None when unknown or not live)."""
    if stream is None or not stream.is_active:
        return None
    return views_of(viewer_counts([stream.stream_id])[stream.stream_id])


def _live_for(stream: LiveStream) -> float | None:
    """How long the console has seen this broadcast live, when that is a minute or more."""
    seconds = live_for(stream.stream_id) if stream.is_active else None
    return seconds if seconds is not None and seconds >= 60 else None


def _viewers_phrase(views: int | None) -> str:
    if views is None:
        return ""
    return f"{views} viewer{'' if views == 1 else 's'}"


def _accepted_names(stream: LiveStream) -> list[str]:
    """What may be typed to confirm a delete: the stream's name (when it has one) or its id."""
    name = stream.metadata.get("livestream_name", "").strip()
    return [name, stream.stream_id] if name else [stream.stream_id]


def _from_list(request: HtmxHttpRequest) -> bool:
    source = request.POST if request.method == "POST" else request.GET
    return source.get("from") == "list"


def _back_url(stream_id: str, from_list: bool) -> str:
    return reverse("stream-list") if from_list else reverse("stream-detail", args=[stream_id])


def _lock_seconds() -> int:
    # Long enough to cover the call with its retries; shortened to DOUBLE_SUBMIT_SECONDS once it returns.
    return int(float(settings.FASTPIX_TIMEOUT) * 3) + 10


def _reread(client: FastPixClient, stream_id: str) -> tuple[LiveStream | None, bool]:
    """The stream as FastPix has it now, and whether it is gone. (None, False): it could not be read."""
    forget_stream(stream_id)
    try:
        return client.get_stream(stream_id), False
    except NotFound:
        return None, True
    except FastPixError:
        return None, False


# ---------------------------------------------------------------- the view


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@never_cache
def stream_action(request: HtmxHttpRequest, stream_id: str, action: str) -> HttpResponse:
    spec = ACTIONS[action]  # the URL pattern admits only these four
    if request.method == "POST":
        return _perform(request, stream_id, spec)
    if not request.user.has_perm(perm(spec.permission)):
        raise PermissionDenied
    return _confirm(request, stream_id, spec)


# ---------------------------------------------------------------- GET: the confirmation


def _confirm_context(
    request: HtmxHttpRequest, stream: LiveStream, spec: Action, from_list: bool, **extra: Any
) -> dict[str, Any]:
    note_statuses([(stream.stream_id, stream.status)])
    views = _views(stream)
    return {
        "live_for": _live_for(stream),
        "spec": spec,
        "action": spec.name,
        "stream": stream,
        "stream_id": stream.stream_id,
        "status_word": STATUS_WORDS.get(stream.status, stream.status),
        "views": views,
        "viewers": _viewers_phrase(views),
        "allowed": stream.status in spec.allowed_in,
        "from_list": from_list,
        "back_url": _back_url(stream.stream_id, from_list),
        "post_url": reverse("stream-action", args=[stream.stream_id, spec.name]),
        "accepted_names": "\n".join(_accepted_names(stream)),
        "typed_name": stream.metadata.get("livestream_name", "").strip(),
        "in_dialog": bool(request.htmx),
        **extra,
    }


def _render_confirm(request: HtmxHttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if request.htmx:
        # Always 200, or htmx would not swap it into the dialog.
        return render(request, "streams/confirm.html#confirm-body", context)
    return render(request, "streams/confirm.html", context, status=status)


def _confirm(request: HtmxHttpRequest, stream_id: str, spec: Action) -> HttpResponse:
    from_list = _from_list(request)
    try:
        stream = get_client().get_stream(stream_id)
    except NotFound:
        if request.htmx:
            context = {"gone": True, "spec": spec, "in_dialog": True, "back_url": reverse("stream-list")}
            return render(request, "streams/confirm.html#confirm-body", context)
        return stream_gone(request)
    except FastPixError as exc:
        return upstream_error_response(request, exc)
    return _render_confirm(request, _confirm_context(request, stream, spec, from_list))


# ---------------------------------------------------------------- POST: the action


def _perform(request: HtmxHttpRequest, stream_id: str, spec: Action) -> HttpResponse:
    if not request.user.has_perm(perm(spec.permission)):
        # Checked here, not only in the template: a forged POST is refused, recorded, and never sent.
        audit.record(
            request,
            spec.name,
            stream_id=stream_id,
            outcome=Outcome.REFUSED,
            message=f"Refused by the console: this role may not {spec.verb} streams. Nothing was sent to FastPix.",
        )
        raise PermissionDenied

    lock = f"action-lock:{stream_id}:{spec.name}"
    if not cache.add(lock, request.user.pk, timeout=_lock_seconds()):
        return _duplicate(request, stream_id, spec)
    sent = False
    try:
        response, sent = _perform_once(request, stream_id, spec)
        return response
    finally:
        if sent:
            cache.set(lock, request.user.pk, timeout=DOUBLE_SUBMIT_SECONDS)
        else:
            cache.delete(lock)


def _duplicate(request: HtmxHttpRequest, stream_id: str, spec: Action) -> HttpResponse:
    """The same action on the same stream moments ago: say so, send nothing."""
    text = (
        f"That {spec.verb} was already sent a moment ago; this second request was not sent to FastPix. "
        "The page shows the result as soon as it is known."
    )
    messages.info(request, text)
    if request.htmx:
        response = render(request, "streams/confirm.html#action-result", {"stream": None})
        return _closing(response, stream_id)
    if spec.name == "delete":
        return redirect("stream-list")
    return redirect(_back_url(stream_id, _from_list(request)))


def _perform_once(request: HtmxHttpRequest, stream_id: str, spec: Action) -> tuple[HttpResponse, bool]:
    """Do the action once. Returns the response and whether a mutating call was sent."""
    from_list = _from_list(request)
    client = get_client()
    try:
        # Read first: the audit entry keeps the name the stream had, and delete checks the typed name.
        stream = client.get_stream(stream_id)
    except NotFound as exc:
        audit.record(
            request, spec.name, stream_id=stream_id, outcome=Outcome.REFUSED, message=audit.message_of(exc)
        )
        result = Result(Outcome.REFUSED, messages.ERROR, "This stream no longer exists.", None, gone=True)
        return _respond(request, stream_id, spec, from_list, result), False
    except FastPixError as exc:
        audit.record(
            request,
            spec.name,
            stream_id=stream_id,
            outcome=Outcome.FAILED,
            message=f"Nothing was sent: the console could not read the stream first ({audit.message_of(exc)}).",
        )
        reason = (
            "FastPix did not answer. Try again in a moment."
            if isinstance(exc, Unavailable)
            else _failure_reason(exc)
        )
        text = f"Could not {spec.verb} the stream: the console could not read it first, so nothing was sent. {reason}"
        result = Result(Outcome.FAILED, messages.ERROR, text, None)
        return _respond(request, stream_id, spec, from_list, result), False

    if spec.name == "delete":
        typed = request.POST.get("confirm", "").strip()
        if typed not in _accepted_names(stream):
            error = (
                "Type the stream's name exactly as shown, or its id, to delete it."
                if typed
                else "Type the stream's name or its id to confirm."
            )
            context = _confirm_context(request, stream, spec, from_list, name_error=error, typed=typed)
            response = _render_confirm(request, context, status=422)
            if request.htmx:
                response = reswap(retarget(response, "#confirm-dialog-body"), "innerHTML")
            return response, False

    result = _call(client, stream, spec)
    audit.record(
        request,
        spec.name,
        stream_id=stream_id,
        stream_name=stream.name,
        outcome=result.outcome,
        message=result.fastpix_message,
    )
    return _respond(request, stream_id, spec, from_list, result), True


def _call(client: FastPixClient, stream: LiveStream, spec: Action) -> Result:
    """Call FastPix and turn whatever happens into a Result (audit outcome, the sentence, the truth now)."""
    stream_id = stream.stream_id
    name = f"“{stream.name}”"
    try:
        spec.call(client, stream_id)
    except InvalidState as exc:
        current, gone = _reread(client, stream_id)
        if spec.already_done and spec.already_done in exc.message.lower():
            # FastPix says it is already so: that is what the user asked for.
            text = f"{name} is {spec.past}. It was already {spec.past}."
            return _with_message(Result(Outcome.DONE, messages.SUCCESS, text, current, gone), exc)
        reason = _refusal_reason(spec, exc, current)
        text = f"Could not {spec.verb} {name}. FastPix refused: {exc.message} — {reason}"
        return _with_message(Result(Outcome.REFUSED, messages.WARNING, text, current, gone), exc)
    except NotFound as exc:
        forget_stream(stream_id)
        result = Result(Outcome.REFUSED, messages.ERROR, "This stream no longer exists.", None, gone=True)
        return _with_message(result, exc)
    except Unavailable as exc:
        if not exc.maybe_processed:
            text = (
                f"Could not {spec.verb} {name}: the console could not reach FastPix, so nothing was sent. "
                "Try again in a moment."
            )
            return _with_message(Result(Outcome.FAILED, messages.ERROR, text, stream), exc)
        current, gone = _reread(client, stream_id)
        text = f"FastPix did not answer in time, so it is not known whether {name} was {spec.past}."
        if gone:
            text += " The stream no longer exists" + (
                ", so it was deleted." if spec.name == "delete" else "."
            )
        elif current is not None:
            text += f" FastPix now reports it as {STATUS_WORDS.get(current.status, current.status)}."
        else:
            text += " Its current state could not be read either; the page shows it when FastPix answers."
        return _with_message(Result(Outcome.UNKNOWN, messages.WARNING, text, current, gone), exc)
    except FastPixError as exc:
        forget_stream(stream_id)
        text = f"Could not {spec.verb} {name}: {_failure_reason(exc)}"
        return _with_message(Result(Outcome.FAILED, messages.ERROR, text, stream), exc)

    if spec.name == "delete":
        forget_stream(stream_id)
        return Result(Outcome.DONE, messages.SUCCESS, f"Deleted {name}.", None, gone=True)
    current, gone = _reread(client, stream_id)
    if current is None and not gone:
        current = dataclasses.replace(stream, status=spec.status_after)  # what FastPix does on success
    return Result(Outcome.DONE, messages.SUCCESS, _done_text(spec, stream, name), current, gone)


def _with_message(result: Result, exc: FastPixError) -> Result:
    return dataclasses.replace(result, fastpix_message=audit.message_of(exc))


def _done_text(spec: Action, before: LiveStream, name: str) -> str:
    if spec.name == "enable":
        return f"Enabled {name}: it is idle and accepts a broadcast again."
    if spec.name == "disable":
        text = f"Disabled {name}: it will not accept a broadcast until it is enabled again."
        if before.is_active:
            text += " The broadcast ended and its viewers were disconnected."
        return text
    text = f"Finished the broadcast of {name}."
    if before.enable_recording:
        text += " FastPix is finalising the recording."
    return text


def _refusal_reason(spec: Action, exc: InvalidState, current: LiveStream | None) -> str:
    """Why FastPix said no, in the stream's terms (contract §4.3)."""
    if "trial" in exc.message.lower():
        return "trial streams cannot be enabled again once disabled."
    if current is None:
        return "its current state could not be read."
    if spec.name == "finish":
        if current.status == "idle":
            return "the broadcast had already ended."
        if current.status == "preparing":
            return "an encoder is connecting, but the broadcast has not started yet."
        if current.status == "disabled":
            return "the stream is disabled, so nothing is being broadcast."
    return f"the stream is {STATUS_WORDS.get(current.status, current.status)} now."


def _failure_reason(exc: FastPixError) -> str:
    if isinstance(exc, ServerError):
        return f"FastPix answered with an error ({audit.message_of(exc)}). Try again in a moment."
    if isinstance(exc, RateLimited):
        return "FastPix is busy and asked the console to slow down. Try again in a moment."
    if isinstance(exc, Unauthorized | Forbidden):
        heading, explanation = upstream_problem(exc)
        return f"{heading}. {explanation}"
    return f"FastPix said “{audit.message_of(exc)}”."


# ---------------------------------------------------------------- responses


def _closing(response: HttpResponse, stream_id: str) -> HttpResponse:
    """Everything in the response is out-of-band; the dialog closes (app.js listens for closeDialog),
    and parts of the page that depend on the stream (its recordings) reload on streamChanged."""
    response = reswap(retarget(response, "#messages"), "none")
    # streamChanged first: closing the dialog empties it, and an event from a detached form goes nowhere.
    trigger_client_event(response, "streamChanged", {"id": stream_id})
    return trigger_client_event(response, "closeDialog")


def _respond(
    request: HtmxHttpRequest, stream_id: str, spec: Action, from_list: bool, result: Result
) -> HttpResponse:
    messages.add_message(request, result.level, result.text)
    gone = result.gone
    if not request.htmx:
        # Post/redirect/get, to the list once the stream is gone.
        if gone and result.outcome == Outcome.REFUSED:
            # It was gone before we touched it: the friendly 404 says so (and the message is not repeated).
            list(messages.get_messages(request))
            return stream_gone(request)
        return redirect("stream-list" if gone else _back_url(stream_id, from_list))

    if gone and not from_list:
        return HttpResponseClientRedirect(reverse("stream-list"))
    current = result.stream
    status = current.status if current else ""
    context = {
        "stream": current,
        "stream_id": stream_id,
        "from_list": from_list,
        "gone": gone,
        "status": status,
        "views": _views(current),
        "actions": actions_allowed(request, status) if current else None,
        "history": AuditEntry.objects.filter(stream_id=stream_id)[:HISTORY_SIZE],
    }
    return _closing(render(request, "streams/confirm.html#action-result", context), stream_id)
