"""Lifecycle actions with confirmation: enable, disable, finish, delete (contract §3.6-3.9, §4.3).

GET shows what will happen (the dialog's fragment for htmx, a page with a POST form otherwise) and never
changes anything. POST checks the role's permission in the view (a forged POST gets 403 and an audit
entry, and nothing reaches FastPix), takes the action's in-flight row (streams/inflight.py: a second
click, tab or process gets the first one's result instead of sending it again), reads the stream, sends
the mutation once, re-reads when the answer left the outcome unknown, writes the audit entry whatever
happened, and answers with the page's status, viewers, buttons and banner all from that one read.

When the console's memory is kept (the worker has walked FastPix's list) and holds the stream, there is
no read first: the name and "is the action still needed" come from the mirror row, the mutation goes out
at once, and one re-read afterwards gives the truthful answer (Finish: two FastPix calls). The mirror is
never trusted to refuse: when it says the action has nothing to do, FastPix is asked before saying so,
since the mirror may be a moment behind. Every read and re-read here is applied to the mirror, so every
open page shows the outcome on its next poll.

The mutation and that re-read go out from one thread of their own pool, the re-read the moment FastPix
answers the mutation. Meanwhile this thread writes the audit entry and renders the dialog's answer for
the state FastPix reports on success; when the re-read finds that state, that answer is sent as it lands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event

from streams import audit, inflight, policy
from streams.client import (
    ApiError,
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
    may_have_acted,
)
from streams.live import (
    action_pool,
    forget_stream,
    live_for,
    note_statuses,
    submit,
    viewer_counts,
    views_of,
)
from streams.models import AuditEntry, MirroredStream
from streams.roles import perm
from streams.views.common import HtmxHttpRequest, stream_gone, upstream_error_response, upstream_problem
from streams.views.streams import StreamRow, actions_allowed
from streams.workspace import mirror
from streams.workspace.freshness import freshness

Outcome = AuditEntry.Outcome

HISTORY_SIZE = 10


@dataclass(frozen=True)
class Action:
    name: str  # enable | disable | finish | delete, also the audit action
    permission: str
    verb: str  # "finish"
    past: str  # "finished"
    pending: str  # what the button says while the call is in flight
    button: str  # the confirm button's label
    button_class: str
    already_done: str  # the phrase of FastPix's 400 that means "nothing to do, it is so" ("" if none)
    took_effect: Callable[[str], bool]  # given the status FastPix reports afterwards
    call: Callable[[FastPixClient, str], None]


ACTIONS = {
    "enable": Action(
        "enable", "enable_stream", "enable", "enabled", "Enabling…", "Enable stream", "primary",
        "already enabled", lambda status: status in policy.ENABLED, FastPixClient.enable_stream,
    ),
    "disable": Action(
        "disable", "disable_stream", "disable", "disabled", "Disabling…", "Disable stream", "danger",
        "already disabled", lambda status: status == "disabled", FastPixClient.disable_stream,
    ),
    "finish": Action(
        "finish", "finish_stream", "finish", "finished", "Finishing…", "Finish broadcast", "danger",
        "", lambda status: status != "active", FastPixClient.finish_stream,
    ),
    "delete": Action(
        "delete", "delete_stream", "delete", "deleted", "Deleting…", "Delete stream", "danger",
        "", lambda status: False, FastPixClient.delete_stream,  # it took effect when the stream is gone
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
    fastpix_message: str = ""  # for the audit log: FastPix's own words, or what the console did


# ---------------------------------------------------------------- helpers


def _row(stream_id: str) -> MirroredStream | None:
    return MirroredStream.objects.filter(stream_id=stream_id, deleted_at=None).first()


def _from_mirror(stream_id: str) -> LiveStream | None:
    """The stream as the console's memory holds it, when that memory is kept (the worker has walked
    FastPix's list) and knows the stream; else None. Never a secret: the mirror keeps none."""
    if not freshness().synced:
        return None
    row = _row(stream_id)
    return mirror.as_stream(row) if row is not None else None


def _read(client: FastPixClient, stream_id: str) -> LiveStream:
    """Read the stream (raises as the client does) and apply the read to the mirror."""
    started = timezone.now()
    try:
        stream = client.get_stream(stream_id)
    except NotFound:
        mirror.forget(stream_id, started)
        raise
    mirror.observe(stream, started)
    return stream


def _views(stream: LiveStream | None) -> int | None:
    """The approximate viewer count of an active stream (None when unknown or not live): the sampler's
    newest while it is sampling, else asked of FastPix."""
    if stream is None or not stream.is_active:
        return None
    if freshness().sampling:
        row = _row(stream.stream_id)
        if row is not None and row.status == "active":
            return row.viewers
    return views_of(viewer_counts([stream.stream_id])[stream.stream_id])


def _live_for(stream: LiveStream) -> float | None:
    """How long the console has seen this broadcast live, when that is a minute or more."""
    if not stream.is_active:
        return None
    seconds = live_for(stream.stream_id)
    if seconds is None:
        row = _row(stream.stream_id)
        if row is not None and row.live_since is not None:
            seconds = (timezone.now() - row.live_since).total_seconds()
    return seconds if seconds is not None and seconds >= 60 else None


def _viewers_phrase(views: int | None) -> str:
    if views is None:
        return ""
    return f"{views} viewer{'' if views == 1 else 's'}"


def _accepted_names(stream: LiveStream) -> list[str]:
    """What may be typed to confirm a delete: the stream's name (when it has one) or its id."""
    name = stream.metadata.get(policy.NAME_KEY, "").strip()
    return [name, stream.stream_id] if name else [stream.stream_id]


def _name_confirmed(typed: str, stream: LiveStream) -> bool:
    wanted = {policy.normalize_confirmation(name) for name in _accepted_names(stream)}
    return policy.normalize_confirmation(typed) in wanted


def _came_from(request: HtmxHttpRequest) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return source.get("from", "")


def _from_list(request: HtmxHttpRequest) -> bool:
    return _came_from(request) == "list"


def _from_wall(request: HtmxHttpRequest) -> bool:
    """From the control wall: its own poll redraws the tile, so the answer is the message alone."""
    return _came_from(request) == "wall"


def _back_url(request: HtmxHttpRequest, stream_id: str, from_list: bool) -> str:
    if _from_wall(request):
        return reverse("wall")
    return reverse("stream-list") if from_list else reverse("stream-detail", args=[stream_id])


def _reread(client: FastPixClient, stream_id: str) -> tuple[LiveStream | None, bool]:
    """The stream as FastPix has it now, and whether it is gone. (None, False): it could not be read."""
    forget_stream(stream_id)
    try:
        return _read(client, stream_id), False
    except NotFound:
        return None, True
    except FastPixError:
        return None, False


def _settled(
    reading: Future[LiveStream | None], stream_id: str, started: datetime
) -> tuple[LiveStream | None, bool]:
    """`_reread`'s answer for a read already sent on the FastPix pool."""
    try:
        stream = reading.result()
    except NotFound:
        mirror.forget(stream_id, started)
        return None, True
    except FastPixError:
        return None, False
    if stream is None:
        return None, False
    # FastPix's webhook for the change usually lands first: then there is nothing to write.
    if not mirror.holds(MirroredStream.objects.filter(stream_id=stream_id).first(), stream):
        mirror.observe(stream, started)
    return stream, False


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
        "status_word": policy.status_word(stream.status),
        "views": views,
        "viewers": _viewers_phrase(views),
        "allowed": policy.allows(stream.status, spec.name),
        "from_list": from_list,
        "from_wall": _from_wall(request),
        "back_url": _back_url(request, stream.stream_id, from_list),
        "post_url": reverse("stream-action", args=[stream.stream_id, spec.name]),
        "accepted_names": "\n".join(_accepted_names(stream)),
        "typed_name": stream.metadata.get(policy.NAME_KEY, "").strip(),
        "in_dialog": bool(request.htmx),
        **extra,
    }


def _render_confirm(request: HtmxHttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if request.htmx:
        # Always 200, or htmx would not swap it into the dialog.
        return render(request, "streams/confirm.html#confirm-body", context)
    return render(request, "streams/confirm.html", context, status=status)


def _warns_enough(remembered: LiveStream, spec: Action) -> bool:
    """Whether the dialog may be drawn from the memory's state. A disable or a delete says who it
    disconnects, and the memory may be a moment behind a broadcast that just started: unless the memory
    already says live (the strongest warning), FastPix is asked, so the dialog never promises that no one is
    disconnected when viewers are."""
    return spec.name not in {"disable", "delete"} or remembered.is_active


def _confirm(request: HtmxHttpRequest, stream_id: str, spec: Action) -> HttpResponse:
    from_list = _from_list(request)
    remembered = _from_mirror(stream_id)
    if (
        remembered is not None
        and policy.allows(remembered.status, spec.name)
        and _warns_enough(remembered, spec)
    ):
        # The memory's name and state: the POST is what asks FastPix, and it says what really happened.
        return _render_confirm(request, _confirm_context(request, remembered, spec, from_list))
    try:
        # Not known, the memory says there is nothing to do, or it would say less than FastPix may: FastPix
        # decides what the dialog says.
        stream = _read(get_client(), stream_id)
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

    mine, theirs = inflight.begin(stream_id, spec.name, request.user)
    if mine is None:
        return _duplicate(request, stream_id, spec, theirs)
    # Until the call has ended this is what the attempt is, should anything escape (a bug, a dropped DB).
    outcome, level, text = (
        Outcome.UNKNOWN.value,
        messages.WARNING,
        "The console stopped before it knew the outcome.",
    )
    try:
        result, response = _attempt(request, stream_id, spec)
        outcome, level, text = result.outcome, result.level, result.text
        return response
    finally:
        inflight.finish(mine, outcome=outcome, level=level, text=text)


def _duplicate(
    request: HtmxHttpRequest, stream_id: str, spec: Action, theirs: inflight.ActionAttempt | None
) -> HttpResponse:
    """The same action on the same stream is in flight (a second click, tab, session or process): send
    nothing, wait for the first attempt's result, and answer with it."""
    done = inflight.wait_for(theirs) if theirs is not None else None
    if done is not None:
        text = (
            f"That {spec.verb} was already sent (another click or tab), so it was not sent twice. {done.text}"
        )
        level, first = done.level, f"its result: {Outcome(done.outcome).label.lower()}"
    else:
        text = (
            f"That {spec.verb} is already being sent (another click or tab), so it was not sent twice. "
            "FastPix has not answered it yet; the page shows the result as soon as it is known."
        )
        level, first = messages.INFO, "still in flight"
    audit.record(
        request,
        spec.name,
        stream_id=stream_id,
        outcome=Outcome.DUPLICATE,
        message=f"Not sent: the same {spec.verb} was already in flight ({first}).",
    )
    current, gone = _reread(get_client(), stream_id)
    return _respond(
        request, stream_id, spec, _from_list(request), Result(Outcome.DUPLICATE, level, text, current, gone)
    )


def _attempt(request: HtmxHttpRequest, stream_id: str, spec: Action) -> tuple[Result, HttpResponse]:
    """Do the action once, holding its in-flight row: the result, and the response that says it."""
    from_list = _from_list(request)
    client = get_client()
    # Inside the lock, the memory first: when it holds the stream and says the action is needed, it gives
    # the name for the audit entry and the typed-name check, and the mutation goes out without a read.
    remembered = _from_mirror(stream_id)
    if remembered is not None and policy.allows(remembered.status, spec.name):
        return _decide(request, client, remembered, spec, from_list)
    try:
        # Read first, inside the lock: the audit entry keeps the name the stream had, delete checks the
        # typed name, and an action the stream no longer needs (another tab just did it) is not sent.
        stream = _read(client, stream_id)
    except NotFound as exc:
        result = Result(
            Outcome.REFUSED, messages.ERROR, "This stream no longer exists.", None, gone=True,
            fastpix_message=audit.message_of(exc),
        )  # fmt: skip
    except FastPixError as exc:
        reason = (
            "FastPix did not answer. Try again in a moment."
            if isinstance(exc, Unavailable)
            else _failure_reason(exc)
        )
        text = f"Could not {spec.verb} the stream: the console could not read it first, so nothing was sent. {reason}"
        message = f"Nothing was sent: the console could not read the stream first ({audit.message_of(exc)})."
        result = Result(Outcome.FAILED, messages.ERROR, text, None, fastpix_message=message)
    else:
        return _decide(request, client, stream, spec, from_list)
    audit.record(
        request, spec.name, stream_id=stream_id, outcome=result.outcome, message=result.fastpix_message
    )
    return result, _respond(request, stream_id, spec, from_list, result)


def _decide(
    request: HtmxHttpRequest, client: FastPixClient, stream: LiveStream, spec: Action, from_list: bool
) -> tuple[Result, HttpResponse]:
    """With the stream known (read now, or held by the memory): check a delete's typed name, send the
    action when the stream's state allows it, audit, and answer."""
    if spec.name == "delete" and not _name_confirmed(request.POST.get("confirm", ""), stream):
        return _mistyped_name(request, stream, spec, from_list)
    audited = False

    def write_audit(outcome: str, message: str) -> None:
        nonlocal audited
        audit.record(
            request, spec.name, stream_id=stream.stream_id, stream_name=stream.name, outcome=outcome,
            message=message,
        )  # fmt: skip
        audited = True

    if policy.allows(stream.status, spec.name):
        early: tuple[Result, HttpResponse] | None = None

        def on_done() -> None:
            # Once FastPix has said "done", the entry is known: it is written while the stream is read again.
            nonlocal early
            write_audit(Outcome.DONE, "")
            if request.htmx:
                # So is the dialog's answer for the state FastPix reports on success (as the detail page
                # renders from the mirror while its read is out): when the read finds that, it is the answer.
                expected = _done(spec, stream, _expected(spec, stream))
                early = expected, _answer(request, stream.stream_id, from_list, expected)

        result = _call(client, stream, spec, on_done=on_done)
        if early is not None and _shown(result) == _shown(early[0]):
            return result, early[1]
    else:
        result = _not_needed(spec, stream)
    if not audited:
        write_audit(result.outcome, result.fastpix_message)
    return result, _respond(request, stream.stream_id, spec, from_list, result)


def _mistyped_name(
    request: HtmxHttpRequest, stream: LiveStream, spec: Action, from_list: bool
) -> tuple[Result, HttpResponse]:
    typed = request.POST.get("confirm", "")
    error = (
        "Type the stream's name as shown, or its id, to delete it."
        if typed.strip()
        else "Type the stream's name or its id to confirm."
    )
    result = Result(Outcome.REFUSED, messages.ERROR, error, stream)
    audit.record(
        request,
        spec.name,
        stream_id=stream.stream_id,
        stream_name=stream.name,
        outcome=Outcome.REFUSED,
        message="Refused by the console: the typed confirmation did not match. Nothing was sent to FastPix.",
    )
    context = _confirm_context(request, stream, spec, from_list, name_error=error, typed=typed)
    response = _render_confirm(request, context, status=422)
    if request.htmx:
        response = reswap(retarget(response, "#confirm-dialog-body"), "innerHTML")
    return result, response


def _not_needed(spec: Action, stream: LiveStream) -> Result:
    """FastPix reports a state in which this action has nothing to do: say so, send nothing."""
    name = f"“{stream.name}”"
    word = policy.status_word(stream.status)
    message = f"Not sent: FastPix reported the stream {word}, so there was nothing to {spec.verb}."
    if spec.name in {"enable", "disable"}:
        text = f"{name} is {spec.past}: it already was, so nothing was sent to FastPix."
        return Result(Outcome.DONE, messages.SUCCESS, text, stream, fastpix_message=message)
    reason = _state_reason(spec, stream)
    text = f"Nothing to {spec.verb}: {reason} Nothing was sent to FastPix."
    return Result(Outcome.REFUSED, messages.WARNING, text, stream, fastpix_message=message)


def _call(
    client: FastPixClient, stream: LiveStream, spec: Action, on_done: Callable[[], None] | None = None
) -> Result:
    """Send the mutation once, and turn whatever happens into a Result (the truth now, in words).
    `on_done` runs once FastPix has said the action is done, while the stream is read again."""
    stream_id = stream.stream_id
    name = f"“{stream.name}”"
    answered: Future[datetime] = Future()
    sent = timezone.now()
    reading = submit(_mutate_then_read, client, spec, stream_id, answered, pool=action_pool)
    try:
        started = answered.result()
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
        mirror.forget(stream_id, sent)  # FastPix says it is gone: so does every open page, and the dialog
        result = Result(Outcome.REFUSED, messages.ERROR, "This stream no longer exists.", None, gone=True)
        return _with_message(result, exc)
    except FastPixError as exc:
        if may_have_acted(exc):
            return _with_message(_after_uncertain_answer(client, stream, spec, exc), exc)
        forget_stream(stream_id)
        text = f"Could not {spec.verb} {name}: {_failure_reason(exc)} Nothing was changed."
        return _with_message(Result(Outcome.FAILED, messages.ERROR, text, stream), exc)

    forget_stream(stream_id)
    if spec.name == "delete":
        mirror.forget(stream_id, started)  # FastPix said it is gone: every open page says so next
        return Result(Outcome.DONE, messages.SUCCESS, f"Deleted {name}.", None, gone=True)
    if on_done is not None:
        on_done()
    current, gone = _settled(reading, stream_id, started)
    if gone:
        text = f"{_done_text(spec, stream, name)} The stream has since been deleted."
        return Result(Outcome.DONE, messages.SUCCESS, text, None, gone=True)
    if current is None:
        # FastPix said it is done; the re-read failed. Show what FastPix does on success.
        current = _expected(spec, stream)
    return _done(spec, stream, current)


def _mutate_then_read(
    client: FastPixClient, spec: Action, stream_id: str, answered: Future[datetime]
) -> LiveStream | None:
    """On the actions' pool: the mutation and, once FastPix has said it is done, the re-read at once from
    the same thread (none after a delete), before anything else in this process (this request's own
    writes, the intake of FastPix's webhook for the change) can hold the interpreter. `answered` tells the
    request thread how the mutation went, and when the re-read was asked. None: nothing was read."""
    try:
        spec.call(client, stream_id)
    except BaseException as exc:  # the request thread raises it; this task has nothing more to do
        answered.set_exception(exc)
        return None
    answered.set_result(timezone.now())
    return None if spec.name == "delete" else client.get_stream(stream_id)


def _expected(spec: Action, before: LiveStream) -> LiveStream:
    """The stream as FastPix reports it once it has done `spec` (contract §4.3): disabled, or idle."""
    return dataclasses.replace(before, status="disabled" if spec.name == "disable" else "idle")


def _done(spec: Action, before: LiveStream, current: LiveStream) -> Result:
    return Result(Outcome.DONE, messages.SUCCESS, _done_text(spec, before, f"“{before.name}”"), current)


def _after_uncertain_answer(
    client: FastPixClient, stream: LiveStream, spec: Action, exc: FastPixError
) -> Result:
    """A 5xx, a timeout or an unreadable answer: FastPix may have acted. The re-read decides what to say."""
    name = f"“{stream.name}”"
    if isinstance(exc, Unavailable):
        what = "FastPix did not answer in time"
    elif isinstance(exc, ApiError) and exc.status < 300:
        what = "The answer from FastPix could not be read"
    else:
        what = f"FastPix answered with an error ({audit.message_of(exc)})"
    current, gone = _reread(client, stream.stream_id)
    if gone:
        if spec.name == "delete":
            return Result(
                Outcome.DONE,
                messages.SUCCESS,
                f"Deleted {name}. ({what}, but the stream is gone.)",
                None,
                True,
            )
        return Result(
            Outcome.UNKNOWN, messages.WARNING, f"{what}, and the stream no longer exists.", None, True
        )
    if current is None:
        text = (
            f"{what}, and its state could not be read either, so it is not known whether {name} was "
            f"{spec.past}. The page shows it as soon as FastPix answers; check before trying again."
        )
        return Result(Outcome.UNKNOWN, messages.WARNING, text, None)
    word = policy.status_word(current.status)
    if spec.took_effect(current.status):
        text = f"{_done_text(spec, stream, name)} ({what}, but it now reports it {word}.)"
        return Result(Outcome.DONE, messages.SUCCESS, text, current)
    text = f"{what}, and it still reports {name} {word}: it was not {spec.past}. Try again."
    return Result(Outcome.FAILED, messages.ERROR, text, current)


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
    if spec.name == "delete":
        return f"Deleted {name}."
    text = f"Finished the broadcast of {name}."
    if before.enable_recording:
        text += " FastPix is finalising the recording."
    return text


def _state_reason(spec: Action, current: LiveStream) -> str:
    """Why the action does not apply in the stream's current state (contract §4.3)."""
    if spec.name == "finish":
        if current.status == "idle":
            return "the broadcast had already ended."
        if current.status == "preparing":
            return "an encoder is connecting, but the broadcast has not started yet."
        if current.status == "disabled":
            return "the stream is disabled, so nothing is being broadcast."
    return f"the stream is {policy.status_word(current.status)} now."


def _refusal_reason(spec: Action, exc: InvalidState, current: LiveStream | None) -> str:
    """Why FastPix said no, in the stream's terms."""
    if "trial" in exc.message.lower():
        return "trial streams cannot be enabled again once disabled."
    if current is None:
        return "its current state could not be read."
    return _state_reason(spec, current)


def _failure_reason(exc: FastPixError) -> str:
    if isinstance(exc, ServerError):
        return f"FastPix answered with an error ({audit.message_of(exc)}). Try again in a moment."
    if isinstance(exc, RateLimited):
        return "FastPix is busy and asked the console to slow down. Try again in a moment."
    if isinstance(exc, Unauthorized | Forbidden):
        heading, explanation = upstream_problem(exc)
        return f"{heading}. {explanation}"
    if isinstance(exc, Unavailable):
        return "the console could not reach FastPix, so nothing was sent. Try again in a moment."
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
    gone = result.gone
    if request.htmx and not (gone and not from_list and not _from_wall(request)):
        return _answer(request, stream_id, from_list, result)
    messages.add_message(request, result.level, result.text)
    if request.htmx:
        # The stream's own page is gone with it: the list says what happened.
        return HttpResponseClientRedirect(reverse("stream-list"))
    # Post/redirect/get, to the list once the stream is gone.
    if gone and result.outcome == Outcome.REFUSED:
        # It was gone before we touched it: the friendly 404 says so (and the message is not repeated).
        list(messages.get_messages(request))
        return stream_gone(request)
    return redirect("stream-list" if gone else _back_url(request, stream_id, from_list))


def _shown(result: Result) -> tuple[Any, ...]:
    """All that the dialog's answer shows of a result: its words, and the stream as its list row (the
    viewers and the buttons follow from the row's status)."""
    row = StreamRow.of(result.stream) if result.stream is not None else None
    return result.level, result.text, result.gone, row


def _answer(request: HtmxHttpRequest, stream_id: str, from_list: bool, result: Result) -> HttpResponse:
    """The dialog's answer (htmx): the message, and the stream's status, buttons and history where the
    page shows them, all out-of-band. It sees the stream only as `_shown` does, so an answer rendered
    for the state expected is the answer whenever the stream is found in that state."""
    level, text, gone, row = _shown(result)
    status = row.status if row is not None else ""
    context = {
        "stream": row,
        "stream_id": stream_id,
        "from_list": from_list,
        "from_wall": _from_wall(request),
        "gone": gone,
        "status": status,
        "views": _views(result.stream),
        "actions": actions_allowed(request, status) if row is not None else None,
        "history": AuditEntry.objects.filter(stream_id=stream_id)[:HISTORY_SIZE],
        # Given, not stored, and the storage left alone: an answer may be rendered twice (for the state
        # expected, then for the state found) and its message must be shown once. A message still pending
        # (from a page without JavaScript) is kept for the next page.
        "answer_messages": [Message(level, text)],
    }
    return _closing(render(request, "streams/confirm.html#action-result", context), stream_id)
