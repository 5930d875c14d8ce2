"""The ASGI app: `/v1` (FastPix-compatible) and `/_emulator` (control), JSON everywhere.

Every `/v1` request passes the gateway: fixed latency, injected faults, HTTP Basic auth (401/403), the rate
limit (429), the request log. Every error — including unknown routes, wrong methods and malformed bodies — is the vendor
envelope with `Content-Type: application/json`, or SDK 1.2.0 loses its typed errors (contract §1.4, A26).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import api, control, errors, playback
from emulator.errors import ApiError
from emulator.faults import Fault
from emulator.runtime import DEFAULT_SECRET, DEFAULT_TOKEN_ID, Emulator
from emulator.simulation import Simulation
from emulator.state import iso
from emulator.webhooks import Target

log = logging.getLogger("emulator")

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# asyncio's timers wake up to a millisecond or two late (the selector's timeout is rounded up to whole
# milliseconds), which made "every call takes L" come out as L + 1.4 ms on this machine. The latency is
# a benchmark's unit, so it is kept exactly: sleep until just before the deadline, then yield to the
# loop until it has passed (other requests keep being served meanwhile).
_TIMER_SLACK = 0.002


async def _wait(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    if seconds > _TIMER_SLACK:
        await asyncio.sleep(seconds - _TIMER_SLACK)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)


class Gateway:
    """Pure ASGI middleware for `/v1`: latency, faults, auth and the request log (contract §1.2, §8)."""

    def __init__(self, app: ASGIApp, emu: Emulator) -> None:
        self.app = app
        self.emu = emu

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        received_at = datetime.now(UTC)
        started = time.perf_counter()
        status = 500  # what the log says if the app raises before answering

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._handle(scope, receive, send_and_watch)
        finally:
            self.emu.requests.add(
                {
                    "method": scope["method"],
                    "path": path,
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status,
                    "time": iso(received_at),
                    "durationMs": round((time.perf_counter() - started) * 1000, 3),
                }
            )

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        fault = self.emu.faults.take(method, scope["path"])
        latency_ms = self.emu.settings.latency_ms + (fault.latency_ms if fault else 0.0)
        if latency_ms > 0:
            await _wait(latency_ms / 1000)
        if fault is not None and (fault.timeout or fault.status is not None):
            if fault.apply:
                # FastPix acts, then the answer is lost: the client sees only the fault.
                await self._serve(scope, receive, _discard)
            await self._fail(fault, scope, receive, send)
            return
        await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Auth (A20), then the routes: what FastPix itself does with the request."""
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
                break
        credential = self.emu.authenticate(authorization)
        if credential is None:
            await error_response(ApiError.of(401, errors.UNAUTHORIZED))(scope, receive, send)  # A20
            return
        if scope["method"] in MUTATING_METHODS and not credential.can_write:
            await error_response(ApiError.of(403, errors.FORBIDDEN))(scope, receive, send)  # A20
            return
        retry_after = self.emu.over_rate_limit(credential)
        if retry_after is not None:
            error = ApiError.of(429, errors.TOO_MANY_REQUESTS, {"Retry-After": str(retry_after)})  # §1.7
            await error_response(error)(scope, receive, send)
            return
        with self.emu.webhooks.after_answer():  # the events this call causes go out after its answer
            await self.app(scope, receive, send)

    async def _fail(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.timeout:
            # Hang like a stuck upstream, but stop early if the client gives up, then answer 504.
            with suppress(TimeoutError):
                await asyncio.wait_for(_wait_for_disconnect(receive), fault.hang_seconds)
            await error_response(ApiError.of(504, errors.FAULT_MESSAGES[504]))(scope, receive, send)
            return
        assert fault.status is not None
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        if fault.raw_body is not None:
            # Exactly this body and Content-Type (no charset added): a malformed answer.
            headers["Content-Type"] = fault.content_type
            await Response(fault.raw_body, status_code=fault.status, headers=headers)(scope, receive, send)
            return
        error = ApiError.of(fault.status, errors.FAULT_MESSAGES[fault.status], headers)
        await error_response(error)(scope, receive, send)


async def _discard(message: Message) -> None:
    """A `send` that drops the real answer of a request served under an `apply` fault."""


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError.of(404, errors.ROUTE_NOT_FOUND)
    elif exc.status_code == 405:
        error = ApiError.of(405, errors.METHOD_NOT_ALLOWED)
    else:
        error = ApiError(exc.status_code, exc.detail.lower(), exc.detail)
    error.headers.update(exc.headers or {})
    return error_response(error)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ApiError.of(500, errors.FAULT_MESSAGES[500]))


def create_app(
    *,
    token_id: str = DEFAULT_TOKEN_ID,
    secret: str = DEFAULT_SECRET,
    seed: int = 0,
    latency_ms: float = 0,
    simulate: bool = False,
    processing_seconds: float = 0.0,
    rng_seed: int | None = None,
    live: int | None = None,
    rate_limit: float = 0.0,
    webhook: Target | None = None,
) -> Starlette:
    emu = Emulator(
        token_id=token_id,
        secret=secret,
        seed=seed,
        latency_ms=latency_ms,
        simulate=simulate,
        processing_seconds=processing_seconds,
        rng_seed=rng_seed,
        live=live,
        rate_limit=rate_limit,
        webhook=webhook,
    )
    simulation = Simulation(emu.state, rng=random.Random(f"sim-{rng_seed}") if rng_seed is not None else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if emu.settings.simulate:
            simulation.start()
        try:
            yield
        finally:
            await simulation.stop()
            emu.webhooks.close()

    # No slash redirects: a redirect is not a JSON answer, and the vendor API has none.
    v1 = Router(api.routes(emu), redirect_slashes=False)
    controls = Router(control.routes(emu, simulation), redirect_slashes=False)
    app = Starlette(
        # The stream host's and the player's stand-ins (emulator/playback.py) share the origin.
        routes=[Mount("/v1", app=v1), Mount("/_emulator", app=controls), *playback.routes(emu)],
        middleware=[Middleware(Gateway, emu=emu)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.emulator = emu
    app.state.simulation = simulation
    return app
