"""The emulator-only control API under `/_emulator` (contract §8): no auth, JSON in and out.

It lets tests put the workspace into any state (including ones only an encoder could cause), inject faults,
read the request log, point webhooks somewhere and make their delivery misbehave. Nothing here is FastPix;
/v1 objects stay vendor-exact.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from emulator.api import json_body, route
from emulator.faults import DEFAULT_HANG_SECONDS, FAULT_STATUSES
from emulator.runtime import PERMISSIONS, Emulator
from emulator.simulation import Simulation
from emulator.state import MEDIA_STATUSES, STREAM_STATUSES, ControlError, parse_iso
from emulator.validation import (
    POLICIES,
    RESOLUTIONS,
    Problems,
    check_bool,
    check_choice,
    check_metadata,
    check_reconnect_window,
)
from emulator.webhooks import (
    CHAOS_ACTIONS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_BASE_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    Target,
    is_signing_secret,
)


def _number(body: dict[str, Any], key: str, default: float, *, minimum: float = 0) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ControlError(400, f"{key} must be a number >= {minimum:g}")
    return float(value)


def _integer(body: dict[str, Any], key: str, default: int | None, *, minimum: int = 0) -> int | None:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ControlError(400, f"{key} must be an integer >= {minimum}")
    return value


def _flag(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ControlError(400, f"{key} must be a boolean")
    return value


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{key} must be a non-empty string")
    return value


def _timestamp(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return parse_iso(value)
    raise ControlError(400, f"{key} must be an ISO-8601 timestamp")


def _stream_settings(body: dict[str, Any]) -> dict[str, Any]:
    """Body of `POST /_emulator/streams`, every field optional."""
    status = body.get("status", "idle")
    if status not in STREAM_STATUSES:
        raise ControlError(400, f"status must be one of {list(STREAM_STATUSES)}")
    problems = Problems()
    metadata = check_metadata(body.get("metadata"), "metadata", problems)
    window = check_reconnect_window(body.get("reconnectWindow"), "reconnectWindow", problems)
    media_policy = check_choice(body.get("mediaPolicy"), "mediaPolicy", POLICIES, problems)
    access_policy = check_choice(body.get("accessPolicy"), "accessPolicy", POLICIES, problems)
    resolution = check_choice(body.get("maxResolution"), "maxResolution", RESOLUTIONS, problems)
    flags = {key: check_bool(body.get(key), key, problems) for key in _FLAGS}
    problems.raise_if_any()
    settings: dict[str, Any] = {
        "status": status,
        "views": _integer(body, "views", 0),
        "live_seconds": _number(body, "liveSeconds", 0.0),
        "created_at": _timestamp(body, "createdAt"),
        "access_policy": access_policy or "public",
        "metadata": metadata or {},
        "reconnect_window": window if window is not None else 60,
        "media_policy": media_policy or "public",
        "max_resolution": resolution or "1080p",
        "max_duration": _integer(body, "maxDuration", 28800),
    }
    for key, attribute in _FLAGS.items():
        if flags[key] is not None:
            settings[attribute] = flags[key]
    return settings


_FLAGS = {
    "trial": "trial",
    "enableRecording": "enable_recording",
    "enableDvrMode": "enable_dvr_mode",
    "lowLatency": "low_latency",
    "closedCaptions": "closed_captions",
}


def routes(emu: Emulator, simulation: Simulation) -> list[BaseRoute]:
    state = emu.state

    def sync_simulation() -> None:
        if emu.settings.simulate:
            simulation.start()

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        body = await json_body(request)
        seed = _integer(body, "seed", 0) or 0
        await simulation.stop()
        emu.reset(seed=seed, rng_seed=_integer(body, "rng_seed", None), live=_integer(body, "live", None))
        sync_simulation()
        return JSONResponse({"ok": True, **state.counts()})

    async def create_stream(request: Request) -> Response:
        return JSONResponse(state.add_stream(**_stream_settings(await json_body(request))), status_code=201)

    async def stream_state(request: Request) -> Response:
        return JSONResponse(state.stream_state(request.path_params["streamId"]))

    async def connect(request: Request) -> Response:
        return JSONResponse(state.connect(request.path_params["streamId"]))

    async def go_live(request: Request) -> Response:
        return JSONResponse(state.go_live(request.path_params["streamId"]))

    async def disconnect(request: Request) -> Response:
        expire = request.query_params.get("expire", "false").lower()
        if expire not in ("true", "false"):
            raise ControlError(400, "expire must be true or false")
        # `ago`: the encoder dropped that many seconds ago, so a reconnect window can run out soon.
        try:
            ago = float(request.query_params.get("ago", "0"))
        except ValueError:
            ago = -1.0
        if not 0 <= ago < 86400:
            raise ControlError(400, "ago must be a number of seconds >= 0")
        stream_id = request.path_params["streamId"]
        return JSONResponse(state.disconnect(stream_id, expire=expire == "true", ago=ago))

    async def viewers(request: Request) -> Response:
        views = _integer(await json_body(request), "views", None)
        if views is None:
            raise ControlError(400, "views must be an integer >= 0")
        return JSONResponse(state.set_viewers(request.path_params["streamId"], views))

    async def create_media(request: Request) -> Response:
        body = await json_body(request)
        kind = body.get("kind", "recording")
        if kind not in ("recording", "clip"):
            raise ControlError(400, "kind must be recording or clip")
        status = body.get("status", "Ready")
        if status not in MEDIA_STATUSES:
            raise ControlError(400, f"status must be one of {list(MEDIA_STATUSES)}")
        ready_in = body.get("readyInSeconds")
        media = state.add_media(
            _text(body, "streamId"),
            kind=kind,
            status=status,
            duration_seconds=_number(body, "durationSeconds", 60.0),
            created_at=_timestamp(body, "createdAt"),
            ready_in_seconds=None if ready_in is None else _number(body, "readyInSeconds", 0.0),
        )
        return JSONResponse(media, status_code=201)

    async def media_state(request: Request) -> Response:
        return JSONResponse(state.media_state(request.path_params["mediaId"]))

    async def media_status(request: Request) -> Response:
        status = (await json_body(request)).get("status")
        if status not in MEDIA_STATUSES:
            raise ControlError(400, f"status must be one of {list(MEDIA_STATUSES)}")
        return JSONResponse(state.set_media_status(request.path_params["mediaId"], status))

    async def add_fault(request: Request) -> Response:
        body = await json_body(request)
        path_regex = _text(body, "path_regex")
        try:
            re.compile(path_regex)
        except re.error:
            raise ControlError(400, "path_regex is not a valid regular expression") from None
        method = body.get("method")
        if method is not None and not isinstance(method, str):
            raise ControlError(400, "method must be a string or null")
        raw_body = body.get("raw_body")
        if raw_body is not None and not isinstance(raw_body, str):
            raise ControlError(400, "raw_body must be a string or null")
        content_type = body.get("content_type", "text/plain")
        if (
            not isinstance(content_type, str)
            or not content_type
            or "\n" in content_type
            or "\r" in content_type
        ):
            raise ControlError(400, "content_type must be a non-empty single-line string")
        status = body.get("status")
        if raw_body is not None:
            # Any status a server could send with a body of our choosing; 200 when absent.
            status = 200 if status is None else status
            if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
                raise ControlError(400, "with raw_body, status must be an integer from 200 to 599 or null")
        elif status is not None and status not in FAULT_STATUSES:
            raise ControlError(400, f"status must be one of {list(FAULT_STATUSES)} or null")
        latency_ms = _number(body, "latency_ms", 0.0)
        timeout = _flag(body, "timeout", False)
        apply = _flag(body, "apply", False)
        if raw_body is not None and timeout:
            raise ControlError(400, "a fault answers either raw_body or timeout: true, not both")
        if status is None and not timeout and latency_ms <= 0:
            raise ControlError(400, "a fault needs a status, a raw_body, a latency_ms or timeout: true")
        if apply and status is None and not timeout:
            raise ControlError(400, "apply: true needs a status, a raw_body or timeout: true to answer with")
        # `times` absent → 1; explicit null → until cleared.
        times = _integer(body, "times", None, minimum=1) if "times" in body else 1
        retry_after = _integer(body, "retry_after", 1 if status == 429 else None)
        fault = emu.faults.add(
            path_regex=path_regex,
            method=method,
            status=status,
            retry_after=retry_after,
            times=times,
            latency_ms=latency_ms,
            timeout=timeout,
            hang_seconds=_number(body, "hang_seconds", DEFAULT_HANG_SECONDS),
            apply=apply,
            raw_body=raw_body,
            content_type=content_type,
        )
        return JSONResponse(fault.to_json(), status_code=201)

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"faults": emu.faults.list()})

    async def clear_faults(request: Request) -> Response:
        return JSONResponse({"cleared": emu.faults.clear()})

    async def list_requests(request: Request) -> Response:
        query = request.query_params
        try:
            entries = emu.requests.list(path_regex=query.get("path_regex"), method=query.get("method"))
        except re.error:
            raise ControlError(400, "path_regex is not a valid regular expression") from None
        return JSONResponse({"requests": entries})

    async def clear_requests(request: Request) -> Response:
        return JSONResponse({"cleared": emu.requests.clear()})

    async def settings(request: Request) -> Response:
        if request.method == "POST":
            body = await json_body(request)
            current = emu.settings
            emu.apply(
                replace(
                    current,
                    latency_ms=_number(body, "latency_ms", current.latency_ms),
                    simulate=_flag(body, "simulate", current.simulate),
                    processing_seconds=_number(body, "processing_seconds", current.processing_seconds),
                    rate_limit=_number(body, "rate_limit", current.rate_limit),
                )
            )
            if emu.settings.simulate:
                simulation.start()
            else:
                await simulation.stop()
        current = emu.settings
        answer: dict[str, Any] = {
            "latency_ms": current.latency_ms,
            "simulate": current.simulate,
            "processing_seconds": current.processing_seconds,
        }
        if current.rate_limit > 0:  # shown while a limit is on (the answer without one predates it)
            answer["rate_limit"] = current.rate_limit
        return JSONResponse(answer)

    async def add_credentials(request: Request) -> Response:
        body = await json_body(request)
        permissions = body.get("permissions", ["read"])
        if not isinstance(permissions, list) or not set(permissions) <= set(PERMISSIONS):
            raise ControlError(400, f"permissions must be a list drawn from {list(PERMISSIONS)}")
        token_id = _text(body, "tokenId")
        emu.add_credential(token_id, _text(body, "secret"), frozenset(permissions))
        return JSONResponse({"tokenId": token_id, "permissions": sorted(permissions)}, status_code=201)

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            emu.webhooks.configure(_webhook_target(await json_body(request)))
        elif request.method == "DELETE":
            emu.webhooks.clear()
        return JSONResponse(emu.webhooks.status())

    async def webhook_deliveries(request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse({"cleared": emu.webhooks.clear_deliveries()})
        return JSONResponse({"data": emu.webhooks.deliveries()})

    async def webhook_chaos(request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse({"cleared": emu.webhooks.clear_chaos()})
        body = await json_body(request)
        action = body.get("action")
        if action not in CHAOS_ACTIONS:
            raise ControlError(400, f"action must be one of {list(CHAOS_ACTIONS)}")
        type_regex = body.get("type_regex")
        if type_regex is not None:
            if not isinstance(type_regex, str):
                raise ControlError(400, "type_regex must be a string or null")
            try:
                re.compile(type_regex)
            except re.error:
                raise ControlError(400, "type_regex is not a valid regular expression") from None
        rule = emu.webhooks.add_chaos(
            action,
            times=_integer(body, "times", 1, minimum=1) or 1,
            type_regex=type_regex or None,
            delay_ms=_number(body, "delay_ms", 0.0),
        )
        return JSONResponse(rule.to_json(), status_code=201)

    async def webhook_release(request: Request) -> Response:
        return JSONResponse({"released": emu.webhooks.release()})

    stream = "/streams/{streamId}"
    return [
        route("/health", GET=health),
        route("/reset", POST=reset),
        route("/streams", POST=create_stream),
        route(stream, GET=stream_state),
        route(f"{stream}/connect", POST=connect),
        route(f"{stream}/go-live", POST=go_live),
        route(f"{stream}/disconnect", POST=disconnect),
        route(f"{stream}/viewers", POST=viewers),
        route("/media", POST=create_media),
        route("/media/{mediaId}", GET=media_state),
        route("/media/{mediaId}/status", POST=media_status),
        route("/faults", POST=add_fault, GET=list_faults, DELETE=clear_faults),
        route("/requests", GET=list_requests, DELETE=clear_requests),
        route("/settings", GET=settings, POST=settings),
        route("/credentials", POST=add_credentials),
        route("/webhooks", GET=webhooks, POST=webhooks, DELETE=webhooks),
        route("/webhooks/deliveries", GET=webhook_deliveries, DELETE=webhook_deliveries),
        route("/webhooks/chaos", POST=webhook_chaos, DELETE=webhook_chaos),
        route("/webhooks/release", POST=webhook_release),
    ]


def _webhook_target(body: dict[str, Any]) -> Target:
    """Body of `POST /_emulator/webhooks`: where to deliver, the signing secret, the retry policy."""
    url = _text(body, "url")
    if not url.startswith(("http://", "https://")):
        raise ControlError(400, "url must be an http:// or https:// URL")
    secret = _text(body, "signing_secret_b64")
    if not is_signing_secret(secret):
        raise ControlError(400, "signing_secret_b64 must be non-empty Base64")
    return Target(
        url=url,
        signing_secret_b64=secret,
        max_attempts=_integer(body, "max_attempts", DEFAULT_MAX_ATTEMPTS, minimum=1) or DEFAULT_MAX_ATTEMPTS,
        retry_base_seconds=_number(body, "retry_base_seconds", DEFAULT_RETRY_BASE_SECONDS),
        timeout_seconds=_number(body, "timeout_seconds", DEFAULT_TIMEOUT_SECONDS, minimum=0.001),
    )
