"""One log line per request, with the FastPix calls it made and their timings, and a Server-Timing
header. Never a secret: paths and status codes only, no headers, no bodies, no query strings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import patch_cache_control
from django_htmx.http import HttpResponseClientRedirect

from streams.client import UpstreamCall, upstream_calls

log = logging.getLogger("streams.requests")


def _describe(calls: list[UpstreamCall]) -> str:
    return ", ".join(f"{c.method} {c.path} {c.status or 'ERR'} {c.elapsed_ms:.0f}ms" for c in calls)


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        calls: list[UpstreamCall] = []
        token = upstream_calls.set(calls)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            # Server-Timing lets browsers' dev tools and bench/ read the server's own time.
            total = (time.perf_counter() - started) * 1000
            response["Server-Timing"] = f'app;dur={total:.1f}, fastpix;desc="{len(calls)} calls"'
            return response
        finally:
            upstream_calls.reset(token)
            elapsed = (time.perf_counter() - started) * 1000
            user = (
                request.user.get_username()
                if getattr(request, "user", None) and request.user.is_authenticated
                else "-"
            )
            log.info(
                "%s %s %s %.0fms user=%s fastpix=%d [%s]",
                request.method,
                request.path,
                status,
                elapsed,
                user,
                len(calls),
                _describe(calls),
            )


class HtmxLoginRedirectMiddleware:
    """A fragment request from a page whose session has expired would swap the whole login page into a
    table cell. Send htmx there as a full-page navigation instead (HX-Redirect)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response the console itself makes: pages, fragments,
    redirects and error pages alike, so that neither a shared browser nor a proxy keeps what a signed-in
    person saw (or the login page with its CSRF token). Static files never get here: WhiteNoise, placed
    before this middleware, answers them with its own long-lived caching."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, private=True, no_store=True)
        return response
