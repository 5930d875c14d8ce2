"""The FastPix-compatible `/v1` routes (contract §10 rows 1–18). Auth, latency and faults live in app.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from emulator import errors
from emulator.errors import ApiError
from emulator.runtime import Emulator
from emulator.validation import (
    parse_create_playback,
    parse_create_simulcast,
    parse_create_stream,
    parse_json_body,
    parse_paging,
    parse_update_simulcast,
    parse_update_stream,
    require_playback_id,
)


def ok(data: Any = None, *, status: int = 200, pagination: dict[str, int] | None = None) -> JSONResponse:
    """Success envelope (contract §1.3): state changes and deletes answer `{"success": true}` only."""
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    if pagination is not None:
        body["pagination"] = pagination
    return JSONResponse(body, status_code=status)


MAX_BODY_BYTES = 1_000_000


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; too large a body is refused before it is read."""
    declared = request.headers.get("content-length", "0")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError.of(413, errors.BODY_TOO_LARGE)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise ApiError.of(413, errors.BODY_TOO_LARGE)
    return parse_json_body(raw)


def routes(emu: Emulator) -> list[BaseRoute]:
    """Each handler validates first (422), then finds the resource (404), then checks its state (400)."""
    state = emu.state

    async def list_streams(request: Request) -> Response:
        data, pagination = state.list_streams(parse_paging(dict(request.query_params)))
        return ok(data, pagination=pagination)

    async def create_stream(request: Request) -> Response:
        return ok(state.create_stream(parse_create_stream(await json_body(request))), status=201)

    async def get_stream(request: Request) -> Response:
        return ok(state.get_stream(request.path_params["streamId"]))

    async def update_stream(request: Request) -> Response:
        update = parse_update_stream(await json_body(request))
        return ok(state.update_stream(request.path_params["streamId"], update))

    async def delete_stream(request: Request) -> Response:
        state.delete_stream(request.path_params["streamId"])
        return ok()

    async def viewer_count(request: Request) -> Response:
        return ok({"views": state.viewer_count(request.path_params["streamId"])})

    async def enable(request: Request) -> Response:
        state.enable_stream(request.path_params["streamId"])
        return ok()

    async def disable(request: Request) -> Response:
        state.disable_stream(request.path_params["streamId"])
        return ok()

    async def finish(request: Request) -> Response:
        state.finish_stream(request.path_params["streamId"])
        return ok()

    async def create_playback_id(request: Request) -> Response:
        playback = parse_create_playback(await json_body(request))
        return ok(state.create_playback_id(request.path_params["streamId"], playback), status=201)

    async def get_playback_id(request: Request) -> Response:
        params = request.path_params
        return ok(state.get_playback_id(params["streamId"], params["playbackId"]))

    async def delete_playback_id(request: Request) -> Response:
        # Canonical form: `?playbackId=` (spec:L3905-3911); the path form is a tolerated alias (A11).
        playback_id = request.path_params.get("playbackId") or request.query_params.get("playbackId")
        state.delete_playback_id(request.path_params["streamId"], require_playback_id(playback_id))
        return ok()

    async def create_simulcast(request: Request) -> Response:
        simulcast = parse_create_simulcast(await json_body(request))
        return ok(state.create_simulcast(request.path_params["streamId"], simulcast), status=201)

    async def no_simulcast_listing(request: Request) -> Response:
        # No vendor source has a "list simulcasts" endpoint (A10).
        raise ApiError.of(404, errors.ROUTE_NOT_FOUND)

    async def get_simulcast(request: Request) -> Response:
        params = request.path_params
        return ok(state.get_simulcast(params["streamId"], params["simulcastId"]))

    async def update_simulcast(request: Request) -> Response:
        update = parse_update_simulcast(await json_body(request))
        params = request.path_params
        return ok(state.update_simulcast(params["streamId"], params["simulcastId"], update))

    async def delete_simulcast(request: Request) -> Response:
        params = request.path_params
        state.delete_simulcast(params["streamId"], params["simulcastId"])
        return ok()

    async def get_media(request: Request) -> Response:
        return ok(state.get_media(request.path_params["mediaId"]))

    async def list_clips(request: Request) -> Response:
        paging = parse_paging(dict(request.query_params))
        data, pagination = state.list_clips(request.path_params["livestreamId"], paging)
        return ok(data, pagination=pagination)

    stream = "/live/streams/{streamId}"
    return [
        route("/live/streams", GET=list_streams, POST=create_stream),
        route(stream, GET=get_stream, PATCH=update_stream, DELETE=delete_stream),
        route(f"{stream}/viewer-count", GET=viewer_count),
        route(f"{stream}/live-enable", PUT=enable),
        route(f"{stream}/live-disable", PUT=disable),
        route(f"{stream}/finish", PUT=finish),
        route(f"{stream}/playback-ids", POST=create_playback_id, DELETE=delete_playback_id),
        route(
            f"{stream}/playback-ids/{{playbackId}}",
            GET=get_playback_id,
            DELETE=delete_playback_id,
            unlisted=("DELETE",),  # the tolerated path form of DELETE (A11)
        ),
        route(f"{stream}/simulcast", POST=create_simulcast, GET=no_simulcast_listing, unlisted=("GET",)),
        route(
            f"{stream}/simulcast/{{simulcastId}}",
            GET=get_simulcast,
            PUT=update_simulcast,
            DELETE=delete_simulcast,
        ),
        route("/on-demand/{mediaId}", GET=get_media),
        route("/on-demand/{livestreamId}/live-clips", GET=list_clips),
    ]


Handler = Callable[[Request], Awaitable[Response]]
# Every method is routed to `dispatch`, so a wrong one gets our JSON 405 with an exact `Allow` header.
ROUTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def route(path: str, *, unlisted: tuple[str, ...] = (), **handlers: Handler) -> Route:
    """One route per path. `unlisted` methods are served but not advertised in `Allow` (A10, A11)."""
    listed = [method for method in handlers if method not in unlisted]
    allow = ", ".join([*listed, "HEAD"] if "GET" in listed else listed)

    async def dispatch(request: Request) -> Response:
        handler = handlers.get("GET" if request.method == "HEAD" else request.method)
        if handler is None:
            raise ApiError.of(405, errors.METHOD_NOT_ALLOWED, {"Allow": allow})
        return await handler(request)

    return Route(path, dispatch, methods=ROUTED_METHODS)
