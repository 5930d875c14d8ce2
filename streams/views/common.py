"""What every console view shares: permission checks, and FastPix failures turned into pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from streams import audit
from streams.client import (
    ApiError,
    FastPixError,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
)
from streams.roles import perm

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (for type checking)."""

    htmx: HtmxDetails


def requires(codename: str, *, audited: str = "") -> Callable[[View], View]:
    """The view needs this console permission; anyone else gets the styled 403 page. With `audited`
    (an audit action), a POST refused for want of the permission is written to the audit log too:
    every attempt is recorded, refusals included."""
    if not audited:
        return permission_required(perm(codename), raise_exception=True)

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(perm(codename)):
                if request.method == "POST":
                    audit.record(
                        request,
                        audited,
                        stream_id=str(kwargs.get("stream_id", "")),
                        outcome="refused",
                        message="Refused by the console: this role may not do this. Nothing was sent to FastPix.",
                    )
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def positive_int(raw: str | None, default: int) -> int:
    """A page number or size from the query string; anything else is the default."""
    try:
        value = int(raw or "")
    except ValueError:
        return default
    return value if value >= 1 else default


def stream_gone(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "404.html",
        {
            "heading": "This stream no longer exists",
            "explanation": "FastPix has no stream with this id. It may have been deleted.",
        },
        status=404,
    )


_PROBLEMS: dict[str, tuple[str, str]] = {
    "credentials": (
        "FastPix refused the console's credentials",
        "The access token configured for this console is wrong, from another workspace, or lacks "
        "permission. An administrator must check FASTPIX_TOKEN_ID and FASTPIX_SECRET_KEY.",
    ),
    "busy": ("FastPix is busy — retrying", "FastPix asked us to slow down. The page will retry shortly."),
    "gone": (
        "FastPix no longer has this",
        "FastPix has nothing with this id. It may have been deleted; go back to the list of streams.",
    ),
    "unreadable": (
        "FastPix sent an answer the console cannot read",
        "FastPix answered, but not in the form its API promises, so there is nothing to show. This is on "
        "FastPix's side and usually passes: try again in a moment. If it keeps happening, tell an "
        "administrator; the console's log names the call.",
    ),
    "unexpected": (
        "FastPix gave an answer the console did not expect",
        "FastPix answered {status}{words}, which the console does not expect here, so there is nothing to "
        "show. Try again in a moment; if it keeps happening, tell an administrator: the console's log names "
        "the call.",
    ),
    "unreachable": (
        "FastPix is not answering — retrying",
        "The console could not reach FastPix just now. Nothing was changed; the page will retry shortly.",
    ),
}
# FastPix answered, but with something the console cannot use (nothing to wait out): Bad Gateway. It did not
# answer, is busy or failing, or refuses the console's credentials: Service Unavailable.
BAD_ANSWER = 502
UNAVAILABLE = 503
_STATUSES = {"unreadable": BAD_ANSWER, "unexpected": BAD_ANSWER, "gone": 404}


def _kind(exc: Exception) -> str:
    """Which of `_PROBLEMS` a failure is. Every FastPixError has one; anything else counts as unreachable."""
    if isinstance(exc, Unauthorized | Forbidden):
        return "credentials"
    if isinstance(exc, RateLimited):
        return "busy"
    if isinstance(exc, NotFound):
        return "gone"
    if not isinstance(exc, ApiError) or isinstance(exc, ServerError) or exc.status == 408:
        return "unreachable"  # no answer, a 5xx (524 included), or FastPix timing out on us (408)
    if 200 <= exc.status < 300:
        return "unreadable"  # a 2xx the client could not read: not JSON, or without its `data`
    return "unexpected"  # 409, 413, a 400 or a 422 where none can come, …


def upstream_problem(exc: Exception) -> tuple[str, str]:
    """A heading and an explanation a person can act on, for any FastPix failure."""
    heading, explanation = _PROBLEMS[_kind(exc)]
    if isinstance(exc, ApiError):
        words = f" ({exc.message})" if exc.message else ""
        explanation = explanation.format(status=exc.status, words=words)
    return heading, explanation


def upstream_status(exc: Exception) -> int:
    """502 when FastPix answered with something the console cannot use; 503 when it is unreachable, busy,
    failing or refusing the console's credentials; 404 when it has no such thing."""
    return _STATUSES.get(_kind(exc), UNAVAILABLE)


def upstream_error_response(request: HtmxHttpRequest, exc: Exception) -> HttpResponse:
    """The page frame with a banner instead of the content, never a 500.

    An htmx request gets the banner alone, swapped into the page's messages: with 502, which the page's
    htmx configuration swaps, or else with 200, as htmx does not swap a 503."""
    heading, explanation = upstream_problem(exc)
    status = upstream_status(exc)
    if status == BAD_ANSWER:
        log.warning("Unusable FastPix answer on %s: %s", request.path, exc)
    else:
        log.warning("FastPix failure on %s: %s", request.path, exc.__class__.__name__)
    context = {"heading": heading, "explanation": explanation, "retry_url": request.get_full_path()}
    if request.htmx:
        response = render(
            request,
            "streams/upstream_error.html#upstream-banner",
            context,
            status=BAD_ANSWER if status == BAD_ANSWER else 200,
        )
        return reswap(retarget(response, "#messages"), "innerHTML")
    return render(request, "streams/upstream_error.html", context, status=status)


def fastpix_view(view: View) -> View:
    """Turn FastPix failures into the right page: 404 for a gone stream, a banner for every other one
    (every FastPixError, including answers the client could not read), never a 500."""

    @functools.wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            return stream_gone(request)
        except FastPixError as exc:
            return upstream_error_response(request, exc)

    return wrapper
