"""What every console view shares: permission checks, and FastPix failures turned into pages."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget
from django_htmx.middleware import HtmxDetails

from streams.client import (
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unavailable,
)
from streams.roles import perm

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (for type checking)."""

    htmx: HtmxDetails


def requires(codename: str) -> Callable[[View], View]:
    """The view needs this console permission; anyone else gets the styled 403 page."""
    return permission_required(perm(codename), raise_exception=True)


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


def upstream_problem(exc: Exception) -> tuple[str, str]:
    """A heading and an explanation a person can act on, for a FastPix failure."""
    if isinstance(exc, Unauthorized | Forbidden):
        return (
            "FastPix refused the console's credentials",
            "The access token configured for this console is wrong, from another workspace, or lacks "
            "permission. An administrator must check FASTPIX_TOKEN_ID and FASTPIX_SECRET_KEY.",
        )
    if isinstance(exc, RateLimited):
        return ("FastPix is busy — retrying", "FastPix asked us to slow down. The page will retry shortly.")
    return (
        "FastPix is not answering — retrying",
        "The console could not reach FastPix just now. Nothing was changed; the page will retry shortly.",
    )


def upstream_error_response(request: HtmxHttpRequest, exc: Exception) -> HttpResponse:
    """The page frame with a banner instead of the content, never a 500."""
    heading, explanation = upstream_problem(exc)
    log.warning("FastPix failure on %s: %s", request.path, exc.__class__.__name__)
    context = {"heading": heading, "explanation": explanation, "retry_url": request.get_full_path()}
    if request.htmx:
        response = render(request, "streams/upstream_error.html#upstream-banner", context)
        return reswap(retarget(response, "#messages"), "innerHTML")
    return render(request, "streams/upstream_error.html", context, status=503)


def fastpix_view(view: View) -> View:
    """Turn FastPix failures into the right page: 404 for a gone stream, a banner for the rest."""

    @functools.wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            return stream_gone(request)
        except (Unauthorized, Forbidden, RateLimited, ServerError, Unavailable) as exc:
            return upstream_error_response(request, exc)

    return wrapper
