"""Unit tests of streams/client.py: the wire format of every call, typed results, one error class per status,
the retry policy (contract §1.6, A18) and what must never leak. FastPix is played by an httpx.MockTransport,
so these tests need neither the emulator nor Django (except the last one, for get_client)."""

from __future__ import annotations

import base64
import contextvars
import json
import logging
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import streams.client as client_module
from streams.client import (
    ApiError,
    FastPixClient,
    FastPixError,
    FieldError,
    Forbidden,
    InvalidState,
    LiveStream,
    Media,
    NotFound,
    Page,
    PlaybackId,
    RateLimited,
    ServerError,
    Simulcast,
    Unauthorized,
    Unavailable,
    UpstreamCall,
    ValidationFailed,
    ViewerCount,
    get_client,
    reset_client,
    upstream_calls,
)

BASE_URL = "https://api.fastpix.test/v1"
TOKEN_ID = "tok"
SECRET = "sec"
BASIC_AUTH = "Basic dG9rOnNlYw=="  # what SDK 1.2.0 sends for tok:sec (contract §1.2)

STREAM_ID = "847b8ec830da90e4cc2ac68a5ab4fcad"
STREAM_KEY = "e32ddec87bbc628ede9c5d2e1b3bfb78k847b8ec830da90e4cc2ac68a5ab4fcad"
SRT_SECRET = "ac4d9f80796414e9ce8e03636c92252ek847b8ec830da90e4cc2ac68a5ab4fcad"
SRT_PLAYBACK_SECRET = "82e27db9d8b15415f84d4201453ebc8ck847b8ec830da90e4cc2ac68a5ab4fcad"
PLAYBACK_ID = "251601ff-ec1a-47aa-97d2-f29f09c71536"
MEDIA_ID = "cfeec1a3-6cbd-40df-a425-2ed7f8f72ced"

# GET /live/streams/{id}, the canonical example of contract §2.1 (seed001:L156-184).
SEED001_STREAM: dict[str, Any] = {
    "streamId": STREAM_ID,
    "streamKey": STREAM_KEY,
    "srtSecret": SRT_SECRET,
    "trial": False,
    "status": "idle",
    "maxResolution": "1080p",
    "maxDuration": 28800,
    "createdAt": "2025-11-27T06:23:55.650918Z",
    "reconnectWindow": 60,
    "enableRecording": True,
    "enableDvrMode": False,
    "mediaPolicy": "public",
    "lowLatency": False,
    "closedCaptions": False,
    "playbackIds": [{"id": PLAYBACK_ID, "accessPolicy": "public"}],
    "srtPlaybackResponse": {
        "srtPlaybackStreamId": "play847b8ec830da90e4cc2ac68a5ab4fcad",
        "srtPlaybackSecret": SRT_PLAYBACK_SECRET,
    },
}

# The same stream after a broadcast, with a name, a recording and a simulcast (spec:L9463, L10016-10024).
SIMULCAST_KEY = "live_1012464221_DuM8W004MoZYNxQEZ0czODgfHCFBhk"
RECORDED_STREAM: dict[str, Any] = {
    **SEED001_STREAM,
    "metadata": {"livestream_name": "  Tech-Connect Summit "},
    "mediaIds": [MEDIA_ID],
    "simulcastResponses": [
        {
            "simulcastId": "8717422d89288ad5958d4a86e9afe2a2",
            "url": "rtmp://hyd01.contribute.live-video.net/app/",
            "streamKey": SIMULCAST_KEY,
            "isEnabled": True,
            "metadata": {"livestream_name": "Tech-Connect Summit"},
        }
    ],
}

# POST /live/streams 201 (seed002:L35-67).
SEED002_CREATED: dict[str, Any] = {
    "streamId": "fa7f8c0950ea48ebcc5ef9de8c23deaa",
    "streamKey": "3dc5d7641f918baa083a5c52a5bd9cbckfa7f8c0950ea48ebcc5ef9de8c23deaa",
    "srtSecret": "c51739512d0088d98a46925c9b74c73akfa7f8c0950ea48ebcc5ef9de8c23deaa",
    "trial": False,
    "status": "idle",
    "maxResolution": "1080p",
    "maxDuration": 28800,
    "createdAt": "2024-10-15T08:48:31.551351Z",
    "reconnectWindow": 60,
    "enableRecording": True,
    "enableDvrMode": True,
    "mediaPolicy": "public",
    "metadata": {"livestream_name": "fastpix_livestream"},
    "lowLatency": True,
    "closedCaptions": False,
    "playbackIds": [{"id": "4e43ec52-4775-4f68-a3ff-a57d8a59bba8", "accessPolicy": "public"}],
    "srtPlaybackResponse": {
        "srtPlaybackStreamId": "playfa7f8c0950ea48ebcc5ef9de8c23deaa",
        "srtPlaybackSecret": "490e707dd4d165c9e38d261b252f9457kfa7f8c0950ea48ebcc5ef9de8c23deaa",
    },
}

# GET /on-demand/{mediaId} (spec:L529-567; seed004:L100-149).
MEDIA_EXAMPLE: dict[str, Any] = {
    "thumbnail": "https://images.fastpix.com/837f028b-dcaf-4c23-b368-3748641f74ac/thumbnail.png",
    "id": MEDIA_ID,
    "workspaceId": "6dc2b4e0-0615-42fd-a580-1f4aad932dfe",
    "metadata": {"key1": "value1"},
    "mediaQuality": "standard",
    "maxResolution": "1080p",
    "sourceResolution": "1080p",
    "status": "Ready",
    "mp4Support": "capped_4k",
    "sourceAccess": False,
    "playbackIds": [
        {
            "id": "837f028b-dcaf-4c23-b368-3748641f74ac",
            "accessPolicy": "public",
            "accessRestrictions": {
                "domains": {"defaultPolicy": "allow", "allow": [], "deny": []},
                "userAgents": {"defaultPolicy": "allow", "allow": [], "deny": []},
            },
        }
    ],
    "tracks": [
        {
            "id": "f301a2a1-b40d-40fa-b419-4d0cd92a62f8",
            "type": "video",
            "width": 1920,
            "height": 1080,
            "frameRate": "30/1",
            "status": "available",
        }
    ],
    "isAudioOnly": False,
    "subtitleAvailable": True,
    "duration": "00:00:10",
    "aspectRatio": "16:9",
    "createdAt": "2025-01-09T06:44:44.617138Z",
    "updatedAt": "2025-01-09T06:44:53.742648Z",
}

# A live clip as GET /on-demand/{livestreamId}/live-clips lists it (spec:L436-470).
CLIP_EXAMPLE: dict[str, Any] = {
    **{key: value for key, value in MEDIA_EXAMPLE.items() if key not in ("metadata", "mediaQuality")},
    "streamId": "98f28be5ac9bd7a4205634691a1a096b",
}

# --------------------------------------------------------------------------------------------------------
# A scripted FastPix


Reply = httpx.Response | type[httpx.RequestError]


class Upstream:
    """Answers requests with the scripted replies, in order, and records every request.

    A reply that is an httpx exception class is raised instead (connection error, timeout). A request
    beyond the script fails the test, so "exactly one attempt" is checked by the script's length.
    """

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError(f"unexpected request: {request.method} {request.url}")
        reply = self.replies.pop(0)
        if isinstance(reply, httpx.Response):
            return reply
        raise reply("simulated failure", request=request)

    @property
    def only_request(self) -> httpx.Request:
        assert len(self.requests) == 1
        return self.requests[0]


def make_client(
    *replies: Reply, secret: str = SECRET, **options: Any
) -> tuple[FastPixClient, Upstream, list[float]]:
    upstream = Upstream(*replies)
    sleeps: list[float] = []
    client = FastPixClient(
        base_url=BASE_URL,
        token_id=TOKEN_ID,
        secret=secret,
        http_client=httpx.Client(transport=httpx.MockTransport(upstream)),
        sleep=sleeps.append,
        **options,
    )
    return client, upstream, sleeps


def ok(data: Any = None, *, status: int = 200, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"success": True, **extra}
    if data is not None:
        body["data"] = data
    return httpx.Response(status, json=body)


def fail(
    status: int,
    message: str,
    description: str = "",
    *,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    error: dict[str, Any] = {"code": status, "message": message}
    if description:
        error["description"] = description
    if fields is not None:
        error["fields"] = fields
    return httpx.Response(status, json={"success": False, "error": error}, headers=headers)


def assert_plain_request(request: httpx.Request, method: str, path: str) -> None:
    """Method, path, credentials and the headers every call carries."""
    assert request.method == method
    assert request.url.scheme == "https"
    assert request.url.host == "api.fastpix.test"
    assert request.url.path == "/v1" + path
    assert request.headers["Authorization"] == BASIC_AUTH
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("fastpix-live-console/")


def json_body(request: httpx.Request) -> Any:
    assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.content)


# --------------------------------------------------------------------------------------------------------
# Every method: wire format and typed result


def test_list_streams_asks_for_page_one_of_ten_newest_first_by_default() -> None:
    client, upstream, _ = make_client(
        ok([SEED001_STREAM], pagination={"totalRecords": 1, "currentOffset": 1, "offsetCount": 1})
    )

    page = client.list_streams()

    request = upstream.only_request
    assert_plain_request(request, "GET", "/live/streams")
    assert dict(request.url.params) == {"limit": "10", "offset": "1", "orderBy": "desc"}
    assert request.content == b""
    assert [stream.stream_id for stream in page.items] == [STREAM_ID]
    assert page.items[0].stream_key == STREAM_KEY
    assert (page.total, page.page, page.limit, page.page_count) == (1, 1, 10, 1)


def test_list_streams_sends_offset_as_a_one_based_page_number() -> None:
    second = {**SEED001_STREAM, "streamId": "cb0bc8a04c18973bc9fd86d1686cbcb0", "status": "active"}
    client, upstream, _ = make_client(
        ok([second], pagination={"totalRecords": 3, "currentOffset": 2, "offsetCount": 2})
    )

    page = client.list_streams(page=2, limit=2, order="asc")

    assert dict(upstream.only_request.url.params) == {"limit": "2", "offset": "2", "orderBy": "asc"}
    assert [stream.stream_id for stream in page.items] == ["cb0bc8a04c18973bc9fd86d1686cbcb0"]
    assert page.items[0].is_active
    assert (page.total, page.page, page.limit, page.page_count) == (3, 2, 2, 2)
    assert not page.has_next
    assert page.has_previous


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"limit": 0}, "limit must be between 1 and 50"),
        ({"limit": 51}, "limit must be between 1 and 50"),
        ({"page": 0}, "page must be 1 or more"),
        ({"order": "newest"}, "order must be 'asc' or 'desc'"),
    ],
)
def test_list_streams_refuses_paging_outside_the_contract_without_calling_fastpix(
    options: dict[str, Any], message: str
) -> None:
    client, upstream, _ = make_client()

    with pytest.raises(ValueError, match=message):
        client.list_streams(**options)

    assert upstream.requests == []


def test_get_stream_parses_the_seed001_example() -> None:
    client, upstream, _ = make_client(ok(SEED001_STREAM))

    stream = client.get_stream(STREAM_ID)

    assert_plain_request(upstream.only_request, "GET", f"/live/streams/{STREAM_ID}")
    assert stream == LiveStream(
        stream_id=STREAM_ID,
        status="idle",
        created_at=datetime(2025, 11, 27, 6, 23, 55, 650918, tzinfo=UTC),
        stream_key=STREAM_KEY,
        srt_secret=SRT_SECRET,
        srt_playback_stream_id="play847b8ec830da90e4cc2ac68a5ab4fcad",
        srt_playback_secret=SRT_PLAYBACK_SECRET,
        trial=False,
        max_resolution="1080p",
        max_duration=28800,
        reconnect_window=60,
        enable_recording=True,
        enable_dvr_mode=False,
        media_policy="public",
        low_latency=False,
        closed_captions=False,
        metadata={},
        playback_ids=(PlaybackId(id=PLAYBACK_ID, access_policy="public"),),
        media_ids=(),
        simulcasts=(),
    )
    assert stream.name == "847b8ec8…"
    assert not stream.is_active
    assert not stream.is_disabled
    assert stream.primary_playback_id == PlaybackId(id=PLAYBACK_ID, access_policy="public")


def test_get_stream_parses_name_recordings_and_simulcasts() -> None:
    client, _, _ = make_client(ok(RECORDED_STREAM))

    stream = client.get_stream(STREAM_ID)

    assert stream.name == "Tech-Connect Summit"
    assert stream.metadata == {"livestream_name": "  Tech-Connect Summit "}
    assert stream.media_ids == (MEDIA_ID,)
    assert stream.simulcasts == (
        Simulcast(
            simulcast_id="8717422d89288ad5958d4a86e9afe2a2",
            url="rtmp://hyd01.contribute.live-video.net/app/",
            stream_key=SIMULCAST_KEY,
            is_enabled=True,
            metadata={"livestream_name": "Tech-Connect Summit"},
        ),
    )


def test_get_viewer_count_returns_the_views() -> None:
    client, upstream, _ = make_client(ok({"views": 20}))

    count = client.get_viewer_count(STREAM_ID)

    assert_plain_request(upstream.only_request, "GET", f"/live/streams/{STREAM_ID}/viewer-count")
    assert count == ViewerCount(views=20)


def test_update_stream_sends_the_whole_metadata_map_and_the_reconnect_window() -> None:
    # seed001:L210-252: PATCH replaces metadata; reconnectWindow always goes along (contract §3.5).
    patched = {**SEED001_STREAM, "metadata": {"live_streaming": "tech"}, "reconnectWindow": 300}
    client, upstream, _ = make_client(ok(patched))

    stream = client.update_stream(STREAM_ID, metadata={"live_streaming": "tech"}, reconnect_window=300)

    request = upstream.only_request
    assert_plain_request(request, "PATCH", f"/live/streams/{STREAM_ID}")
    assert json_body(request) == {"metadata": {"live_streaming": "tech"}, "reconnectWindow": 300}
    assert stream.metadata == {"live_streaming": "tech"}
    assert stream.reconnect_window == 300


def test_update_stream_with_empty_metadata_still_sends_both_keys() -> None:
    client, upstream, _ = make_client(ok(SEED001_STREAM))

    client.update_stream(STREAM_ID, metadata={}, reconnect_window=60)

    assert json_body(upstream.only_request) == {"metadata": {}, "reconnectWindow": 60}


@pytest.mark.parametrize(
    ("method_name", "suffix"),
    [("enable_stream", "live-enable"), ("disable_stream", "live-disable"), ("finish_stream", "finish")],
)
def test_state_changes_are_puts_without_a_body(method_name: str, suffix: str) -> None:
    client, upstream, _ = make_client(ok())

    result = getattr(client, method_name)(STREAM_ID)

    request = upstream.only_request
    assert_plain_request(request, "PUT", f"/live/streams/{STREAM_ID}/{suffix}")
    assert request.content == b""
    assert "Content-Type" not in request.headers
    assert result is None


def test_delete_stream_sends_a_delete() -> None:
    client, upstream, _ = make_client(ok())

    client.delete_stream(STREAM_ID)

    assert_plain_request(upstream.only_request, "DELETE", f"/live/streams/{STREAM_ID}")
    assert upstream.only_request.content == b""


def test_create_stream_sends_both_settings_objects_in_camel_case() -> None:
    client, upstream, _ = make_client(ok(SEED002_CREATED, status=201))

    stream = client.create_stream()

    request = upstream.only_request
    assert_plain_request(request, "POST", "/live/streams")
    assert json_body(request) == {
        "playbackSettings": {"accessPolicy": "public"},
        "inputMediaSettings": {
            "maxResolution": "1080p",
            "reconnectWindow": 60,
            "mediaPolicy": "public",
            "enableDvrMode": False,
            "enableRecording": True,
        },
    }
    assert stream.stream_id == "fa7f8c0950ea48ebcc5ef9de8c23deaa"
    assert stream.status == "idle"
    assert stream.name == "fastpix_livestream"
    assert stream.low_latency is True
    assert stream.created_at == datetime(2024, 10, 15, 8, 48, 31, 551351, tzinfo=UTC)


def test_create_stream_sends_every_option_given() -> None:
    client, upstream, _ = make_client(ok(SEED002_CREATED, status=201))

    client.create_stream(
        access_policy="private",
        max_resolution="720p",
        reconnect_window=1800,
        media_policy="private",
        metadata={"livestream_name": "Town hall"},
        enable_dvr_mode=True,
        enable_recording=False,
    )

    assert json_body(upstream.only_request) == {
        "playbackSettings": {"accessPolicy": "private"},
        "inputMediaSettings": {
            "maxResolution": "720p",
            "reconnectWindow": 1800,
            "mediaPolicy": "private",
            "metadata": {"livestream_name": "Town hall"},
            "enableDvrMode": True,
            "enableRecording": False,
        },
    }


def test_create_playback_id_posts_the_access_policy() -> None:
    created = {"id": "88b7ac0f-2504-4dd5-b7b4-d84ab4fee1bd", "accessPolicy": "private"}
    client, upstream, _ = make_client(ok(created, status=201))

    playback_id = client.create_playback_id(STREAM_ID, access_policy="private")

    request = upstream.only_request
    assert_plain_request(request, "POST", f"/live/streams/{STREAM_ID}/playback-ids")
    assert json_body(request) == {"accessPolicy": "private"}
    assert playback_id == PlaybackId(id="88b7ac0f-2504-4dd5-b7b4-d84ab4fee1bd", access_policy="private")


def test_get_playback_id_reads_one_playback_id() -> None:
    client, upstream, _ = make_client(ok({"id": PLAYBACK_ID, "accessPolicy": "public"}))

    playback_id = client.get_playback_id(STREAM_ID, PLAYBACK_ID)

    assert_plain_request(
        upstream.only_request, "GET", f"/live/streams/{STREAM_ID}/playback-ids/{PLAYBACK_ID}"
    )
    assert playback_id == PlaybackId(id=PLAYBACK_ID, access_policy="public")


def test_delete_playback_id_passes_the_id_as_a_query_parameter() -> None:
    # Contract A11: the canonical form is ?playbackId=, not a path segment.
    client, upstream, _ = make_client(ok())

    client.delete_playback_id(STREAM_ID, PLAYBACK_ID)

    request = upstream.only_request
    assert_plain_request(request, "DELETE", f"/live/streams/{STREAM_ID}/playback-ids")
    assert dict(request.url.params) == {"playbackId": PLAYBACK_ID}


def test_get_media_parses_the_vendor_example() -> None:
    client, upstream, _ = make_client(ok(MEDIA_EXAMPLE))

    media = client.get_media(MEDIA_ID)

    assert_plain_request(upstream.only_request, "GET", f"/on-demand/{MEDIA_ID}")
    assert media == Media(
        id=MEDIA_ID,
        status="Ready",
        stream_id=None,
        title=None,
        created_at=datetime(2025, 1, 9, 6, 44, 44, 617138, tzinfo=UTC),
        updated_at=datetime(2025, 1, 9, 6, 44, 53, 742648, tzinfo=UTC),
        duration="00:00:10",
        thumbnail="https://images.fastpix.com/837f028b-dcaf-4c23-b368-3748641f74ac/thumbnail.png",
        playback_ids=(PlaybackId(id="837f028b-dcaf-4c23-b368-3748641f74ac", access_policy="public"),),
        max_resolution="1080p",
        source_resolution="1080p",
        aspect_ratio="16:9",
        is_audio_only=False,
        metadata={"key1": "value1"},
    )
    assert media.duration_seconds == 10
    assert media.is_ready
    assert not media.is_failed
    assert not media.is_processing
    assert media.primary_playback_id == media.playback_ids[0]


def test_list_live_clips_pages_through_a_streams_recordings() -> None:
    client, upstream, _ = make_client(
        ok([CLIP_EXAMPLE], pagination={"totalRecords": 100, "currentOffset": 1, "offsetCount": 10})
    )

    page = client.list_live_clips(STREAM_ID, limit=10)

    request = upstream.only_request
    assert_plain_request(request, "GET", f"/on-demand/{STREAM_ID}/live-clips")
    assert dict(request.url.params) == {"limit": "10", "offset": "1", "orderBy": "desc"}
    assert [clip.id for clip in page.items] == [MEDIA_ID]
    assert page.items[0].stream_id == "98f28be5ac9bd7a4205634691a1a096b"
    assert (page.total, page.page, page.page_count, page.has_next) == (100, 1, 10, True)


def test_ids_are_quoted_as_a_single_path_segment() -> None:
    client, upstream, _ = make_client(ok(SEED001_STREAM))

    client.get_stream("../on-demand/x?y")

    assert upstream.only_request.url.raw_path == b"/v1/live/streams/..%2Fon-demand%2Fx%3Fy"


def test_a_trailing_slash_in_the_base_url_is_tolerated() -> None:
    upstream = Upstream(ok({"views": 1}))
    client = FastPixClient(
        base_url=BASE_URL + "/",
        token_id=TOKEN_ID,
        secret=SECRET,
        http_client=httpx.Client(transport=httpx.MockTransport(upstream)),
    )

    client.get_viewer_count(STREAM_ID)

    assert upstream.only_request.url.path == f"/v1/live/streams/{STREAM_ID}/viewer-count"


# --------------------------------------------------------------------------------------------------------
# One error class per status (DELETE is never retried, so each status costs exactly one request)


@pytest.mark.parametrize(
    ("status", "error_class", "message", "description"),
    [
        (400, InvalidState, "stream already disabled", "The requested stream is already disabled."),
        (401, Unauthorized, "unauthorized", "This happens because of 1)Miss match between access token …"),
        (403, Forbidden, "forbidden", "The Access token does not have permissions to perform the request."),
        (404, NotFound, "stream not found", "The requested resource (eg:streamId) doesn't exist"),
        (409, ApiError, "Data Conflict", ""),
        (500, ServerError, "Internal Server Error", ""),
        (502, ServerError, "Bad Gateway", ""),
        (503, ServerError, "Service Unavailable", ""),
        (504, ServerError, "Gateway Timeout", ""),
        (524, ServerError, "Timeout Occurred", ""),
    ],
)
def test_each_status_raises_its_own_error_class(
    status: int, error_class: type[ApiError], message: str, description: str
) -> None:
    client, upstream, _ = make_client(fail(status, message, description))

    with pytest.raises(error_class) as caught:
        client.delete_stream(STREAM_ID)

    error = caught.value
    assert type(error) is error_class
    assert isinstance(error, FastPixError)
    assert (error.status, error.message, error.description, error.fields) == (
        status,
        message,
        description,
        (),
    )
    assert (error.method, error.path) == ("DELETE", f"/live/streams/{STREAM_ID}")
    assert str(error).startswith(f"FastPix {status} on DELETE /live/streams/{STREAM_ID}: {message}")
    assert len(upstream.requests) == 1


def test_422_raises_validation_failed_with_the_field_errors() -> None:
    client, _, _ = make_client(
        fail(
            422,
            "payload validation failed",
            fields=[{"field": "reconnectWindow", "message": "must be between 60 and 1800"}],
        )
    )

    with pytest.raises(ValidationFailed) as caught:
        client.update_stream(STREAM_ID, metadata={}, reconnect_window=5)

    assert caught.value.status == 422
    assert caught.value.fields == (
        FieldError(field="reconnectWindow", message="must be between 60 and 1800"),
    )
    assert str(caught.value) == (
        f"FastPix 422 on PATCH /live/streams/{STREAM_ID}: payload validation failed "
        "[reconnectWindow: must be between 60 and 1800]"
    )


def test_429_raises_rate_limited_with_retry_after() -> None:
    client, _, _ = make_client(fail(429, "too many requests", headers={"Retry-After": "30"}))

    with pytest.raises(RateLimited) as caught:
        client.delete_stream(STREAM_ID)

    assert caught.value.status == 429
    assert caught.value.retry_after == 30.0
    assert str(caught.value) == f"FastPix 429 on DELETE /live/streams/{STREAM_ID}: too many requests"


def test_an_error_without_a_json_body_takes_its_message_from_the_reason_phrase() -> None:
    client, _, _ = make_client(httpx.Response(502, text="<html>upstream down</html>"))

    with pytest.raises(ServerError) as caught:
        client.delete_stream(STREAM_ID)

    assert (caught.value.message, caught.value.description) == ("Bad Gateway", "")


def test_legacy_error_shapes_are_understood() -> None:
    client, _, _ = make_client(
        httpx.Response(422, json={"success": False, "message": "payload validation failed"}),
        httpx.Response(
            422, json={"success": False, "errors": [{"field": "accessPolicy", "message": "must be public"}]}
        ),
    )

    with pytest.raises(ValidationFailed) as top_level:
        client.create_stream()
    with pytest.raises(ValidationFailed) as legacy:
        client.create_playback_id(STREAM_ID, access_policy="drm")

    assert top_level.value.message == "payload validation failed"
    assert legacy.value.message == "must be public"
    assert legacy.value.fields == (FieldError(field="accessPolicy", message="must be public"),)


def test_a_connection_error_raises_unavailable_that_was_not_processed() -> None:
    client, _, _ = make_client(httpx.ConnectError, httpx.ConnectError, httpx.ConnectError)

    with pytest.raises(Unavailable) as caught:
        client.create_stream()

    assert (caught.value.timed_out, caught.value.maybe_processed) == (False, False)
    assert str(caught.value) == "FastPix unreachable on POST /live/streams: ConnectError: simulated failure"


def test_a_read_timeout_raises_unavailable_that_may_have_been_processed() -> None:
    client, _, _ = make_client(httpx.ReadTimeout)

    with pytest.raises(Unavailable) as caught:
        client.create_stream()

    assert (caught.value.timed_out, caught.value.maybe_processed) == (True, True)
    assert "may have been processed" in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "timed_out", "maybe_processed"),
    [
        (httpx.ConnectTimeout, True, False),
        (httpx.PoolTimeout, True, False),
        (httpx.WriteTimeout, True, True),
        (httpx.RemoteProtocolError, False, True),  # the connection dropped after the request went out
        (httpx.ReadError, False, True),
    ],
)
def test_unavailable_says_whether_the_request_may_have_reached_fastpix(
    failure: type[httpx.RequestError], timed_out: bool, maybe_processed: bool
) -> None:
    # A mutation is sent again only when it never left (3 attempts in all); otherwise once.
    client, upstream, _ = make_client(*[failure] * (1 if maybe_processed else 3))

    with pytest.raises(Unavailable) as caught:
        client.delete_stream(STREAM_ID)

    assert (caught.value.timed_out, caught.value.maybe_processed) == (timed_out, maybe_processed)
    assert len(upstream.requests) == (1 if maybe_processed else 3)


def test_a_refused_connection_on_the_clients_own_pool_raises_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    client = FastPixClient(
        base_url=f"http://127.0.0.1:{port}/v1", token_id=TOKEN_ID, secret=SECRET, sleep=sleeps.append
    )

    with client, pytest.raises(Unavailable) as caught:
        client.get_stream(STREAM_ID)

    assert caught.value.maybe_processed is False
    assert sleeps == [1.0, 2.0]  # a GET: three attempts


def test_a_success_without_a_data_object_is_an_api_error() -> None:
    client, _, _ = make_client(ok(), httpx.Response(200, text="not json"))

    with pytest.raises(ApiError, match="without a data object"):
        client.get_stream(STREAM_ID)
    with pytest.raises(ApiError, match="not JSON"):
        client.get_stream(STREAM_ID)


# --------------------------------------------------------------------------------------------------------
# Retries (contract §1.6, A18)


def test_a_get_is_retried_on_503_with_exponential_backoff_until_it_succeeds() -> None:
    client, upstream, sleeps = make_client(fail(503, "busy"), fail(503, "busy"), ok({"views": 7}))

    assert client.get_viewer_count(STREAM_ID) == ViewerCount(views=7)

    assert len(upstream.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_a_get_gives_up_after_three_attempts() -> None:
    client, upstream, sleeps = make_client(fail(503, "busy"), fail(502, "bad"), fail(503, "still busy"))

    with pytest.raises(ServerError) as caught:
        client.get_stream(STREAM_ID)

    assert caught.value.message == "still busy"
    assert len(upstream.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_backoff_doubles_up_to_backoff_max() -> None:
    replies = [fail(500, "oops")] * 4 + [ok({"views": 1})]
    client, _, sleeps = make_client(*replies, max_attempts=5, backoff_initial=3.0, backoff_max=5.0)

    client.get_viewer_count(STREAM_ID)

    assert sleeps == [3.0, 5.0, 5.0, 5.0]


def test_a_get_is_retried_after_a_read_timeout() -> None:
    client, upstream, sleeps = make_client(httpx.ReadTimeout, ok(SEED001_STREAM))

    assert client.get_stream(STREAM_ID).stream_id == STREAM_ID

    assert len(upstream.requests) == 2
    assert sleeps == [1.0]


def test_a_get_is_not_retried_on_a_status_outside_the_retry_list() -> None:
    client, upstream, sleeps = make_client(fail(404, "stream not found"))

    with pytest.raises(NotFound):
        client.get_stream(STREAM_ID)

    assert len(upstream.requests) == 1
    assert sleeps == []


def test_429_with_retry_after_sleeps_exactly_that_long_then_succeeds() -> None:
    client, upstream, sleeps = make_client(
        fail(429, "too many requests", headers={"Retry-After": "2"}), ok({"views": 3})
    )

    assert client.get_viewer_count(STREAM_ID) == ViewerCount(views=3)

    assert len(upstream.requests) == 2
    assert sleeps == [2.0]


def test_429_asking_for_longer_than_max_retry_after_raises_at_once() -> None:
    client, upstream, sleeps = make_client(fail(429, "too many requests", headers={"Retry-After": "30"}))

    with pytest.raises(RateLimited) as caught:
        client.list_streams()

    assert caught.value.retry_after == 30.0
    assert len(upstream.requests) == 1
    assert sleeps == []


def test_429_without_retry_after_backs_off_exponentially() -> None:
    client, _, sleeps = make_client(fail(429, "slow down"), fail(429, "slow down"), ok({"views": 0}))

    client.get_viewer_count(STREAM_ID)

    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    "failure",
    [
        fail(503, "busy"),
        fail(500, "oops"),
        fail(524, "timeout occurred"),
        fail(429, "slow down"),
        httpx.ReadTimeout,
    ],
)
def test_create_stream_is_never_retried_once_fastpix_may_have_acted(failure: Reply) -> None:
    # A retry after an unseen success would create a duplicate stream (A18).
    client, upstream, sleeps = make_client(failure)

    with pytest.raises(FastPixError):
        client.create_stream()

    assert len(upstream.requests) == 1
    assert sleeps == []


def test_create_playback_id_is_never_retried() -> None:
    client, upstream, _ = make_client(fail(503, "busy"))

    with pytest.raises(ServerError):
        client.create_playback_id(STREAM_ID)

    assert len(upstream.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.update_stream(STREAM_ID, metadata={}, reconnect_window=60),
        lambda client: client.delete_stream(STREAM_ID),
        lambda client: client.delete_playback_id(STREAM_ID, PLAYBACK_ID),
    ],
    ids=["patch", "delete-stream", "delete-playback-id"],
)
@pytest.mark.parametrize(
    "failure",
    [fail(503, "busy"), fail(408, "request timeout"), httpx.ReadTimeout, httpx.RemoteProtocolError],
    ids=["503", "408", "read-timeout", "dropped-after-sending"],
)
def test_patch_and_delete_are_never_retried_once_fastpix_may_have_acted(call: Any, failure: Reply) -> None:
    client, upstream, sleeps = make_client(failure)

    with pytest.raises(FastPixError):
        call(client)

    assert len(upstream.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 524])
def test_finish_is_sent_once_after_a_server_error(status: int) -> None:
    # After a 5xx FastPix may already have acted: one click, one PUT; the view re-reads instead.
    client, upstream, sleeps = make_client(fail(status, "busy"))

    with pytest.raises(ServerError):
        client.finish_stream(STREAM_ID)

    assert [request.method for request in upstream.requests] == ["PUT"]
    assert sleeps == []


MUTATIONS = [
    lambda client: client.create_stream(),
    lambda client: client.update_stream(STREAM_ID, metadata={}, reconnect_window=60),
    lambda client: client.enable_stream(STREAM_ID),
    lambda client: client.disable_stream(STREAM_ID),
    lambda client: client.finish_stream(STREAM_ID),
    lambda client: client.delete_stream(STREAM_ID),
    lambda client: client.create_playback_id(STREAM_ID),
]
MUTATION_IDS = ["create", "patch", "enable", "disable", "finish", "delete", "create-playback-id"]


@pytest.mark.parametrize("call", MUTATIONS, ids=MUTATION_IDS)
def test_a_mutation_is_sent_again_when_the_connection_was_refused_before_sending(call: Any) -> None:
    client, upstream, sleeps = make_client(httpx.ConnectError, ok({"streamId": STREAM_ID, "id": PLAYBACK_ID}))

    call(client)

    assert len(upstream.requests) == 2
    assert sleeps == [1.0]


@pytest.mark.parametrize("call", MUTATIONS, ids=MUTATION_IDS)
def test_a_mutation_waits_as_told_by_a_429_with_retry_after_then_is_sent_again(call: Any) -> None:
    client, upstream, sleeps = make_client(
        fail(429, "too many requests", headers={"Retry-After": "3"}),
        ok({"streamId": STREAM_ID, "id": PLAYBACK_ID}),
    )

    call(client)

    assert len(upstream.requests) == 2
    assert sleeps == [3.0]


@pytest.mark.parametrize("call", MUTATIONS, ids=MUTATION_IDS)
def test_a_mutation_is_not_sent_again_after_a_429_that_does_not_say_when(call: Any) -> None:
    client, upstream, sleeps = make_client(fail(429, "slow down"))

    with pytest.raises(RateLimited) as caught:
        call(client)

    assert caught.value.message == "slow down"
    assert len(upstream.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("error", "acted"),
    [
        (client_module.ServerError(500, "oops"), True),
        (client_module.ServerError(524, "timeout occurred"), True),
        (client_module.ApiError(408, "request timeout"), True),
        (client_module.ApiError(200, "FastPix sent a response that is not JSON"), True),
        (client_module.Unavailable("t", method="PUT", path="/x", timed_out=True, maybe_processed=True), True),
        (
            client_module.Unavailable("c", method="PUT", path="/x", timed_out=False, maybe_processed=False),
            False,
        ),
        (client_module.InvalidState(400, "not active"), False),
        (client_module.NotFound(404, "not found"), False),
        (client_module.RateLimited(429, "slow down"), False),
        (client_module.Unauthorized(401, "unauthorized"), False),
        (client_module.ApiError(409, "conflict"), False),
        (client_module.ApiError(413, "too large"), False),
    ],
)
def test_may_have_acted_says_when_only_a_re_read_can_tell(error: Any, acted: bool) -> None:
    assert client_module.may_have_acted(error) is acted


def test_finish_is_not_retried_after_a_read_timeout() -> None:
    # The PUT may have been applied; the view re-reads the stream instead of guessing (A18).
    client, upstream, sleeps = make_client(httpx.ReadTimeout)

    with pytest.raises(Unavailable) as caught:
        client.finish_stream(STREAM_ID)

    assert caught.value.maybe_processed is True
    assert len(upstream.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize("method_name", ["enable_stream", "disable_stream", "finish_stream"])
def test_a_state_change_is_retried_after_a_connect_error(method_name: str) -> None:
    client, upstream, sleeps = make_client(httpx.ConnectError, httpx.ConnectTimeout, ok())

    getattr(client, method_name)(STREAM_ID)

    assert len(upstream.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_a_state_change_is_not_retried_when_the_connection_dropped_after_sending() -> None:
    client, upstream, _ = make_client(httpx.RemoteProtocolError)

    with pytest.raises(Unavailable) as caught:
        client.disable_stream(STREAM_ID)

    assert caught.value.maybe_processed is True
    assert len(upstream.requests) == 1


def test_a_state_change_is_not_retried_on_a_400() -> None:
    client, upstream, _ = make_client(fail(400, "stream is already enabled"))

    with pytest.raises(InvalidState):
        client.enable_stream(STREAM_ID)

    assert len(upstream.requests) == 1


# --------------------------------------------------------------------------------------------------------
# Secrets never leak


def test_secrets_never_reach_exceptions_reprs_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "Sup3r-Secret-Key-d0-n0t-l0g"
    credentials = base64.b64encode(f"{TOKEN_ID}:{secret}".encode()).decode()
    caplog.set_level(logging.DEBUG, logger="streams.client")
    client, _, _ = make_client(
        ok(RECORDED_STREAM),
        fail(404, "stream not found"),
        httpx.ReadTimeout,
        fail(503, "busy"),
        fail(422, "payload validation failed", fields=[{"field": "metadata", "message": "too long"}]),
        secret=secret,
    )

    stream = client.get_stream(STREAM_ID)
    errors: list[Exception] = []
    for call in (
        lambda: client.get_stream(STREAM_ID),
        lambda: client.finish_stream(STREAM_ID),
        lambda: client.delete_stream(STREAM_ID),
        lambda: client.update_stream(STREAM_ID, metadata={"stream_key": STREAM_KEY}, reconnect_window=60),
    ):
        with pytest.raises(FastPixError) as caught:
            call()
        errors.append(caught.value)

    texts = [repr(stream), repr(stream.simulcasts), repr(client)]
    texts += [str(error) for error in errors] + [repr(error) for error in errors]
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) >= 5
    for text in texts:
        for leaked in (secret, credentials, STREAM_KEY, SRT_SECRET, SRT_PLAYBACK_SECRET, SIMULCAST_KEY):
            assert leaked not in text


# --------------------------------------------------------------------------------------------------------
# Defensive parsing (A13)


def test_a_stream_with_only_an_id_parses_with_defaults() -> None:
    client, _, _ = make_client(ok({"streamId": STREAM_ID}))

    stream = client.get_stream(STREAM_ID)

    assert stream == LiveStream(stream_id=STREAM_ID)
    assert (stream.status, stream.created_at, stream.stream_key) == ("unknown", None, "")
    assert (stream.max_duration, stream.reconnect_window, stream.enable_recording) == (28800, 60, True)
    assert (stream.playback_ids, stream.media_ids, stream.simulcasts, stream.metadata) == ((), (), (), {})
    assert stream.primary_playback_id is None
    assert stream.name == "847b8ec8…"


def test_a_stream_without_an_id_keeps_the_id_it_was_asked_for() -> None:
    client, _, _ = make_client(ok({"status": "active"}))

    assert client.get_stream(STREAM_ID).stream_id == STREAM_ID


@pytest.mark.parametrize(
    ("wire", "parsed"),
    [("active", "active"), ("Disabled", "disabled"), ("reconnecting", "reconnecting"), ("", "unknown")],
)
def test_known_statuses_are_lowercased_and_unknown_ones_kept_as_sent(wire: str, parsed: str) -> None:
    client, _, _ = make_client(ok({"streamId": STREAM_ID, "status": wire}))

    assert client.get_stream(STREAM_ID).status == parsed


def test_mistyped_fields_fall_back_to_defaults() -> None:
    client, _, _ = make_client(
        ok(
            {
                "streamId": STREAM_ID,
                "createdAt": "yesterday",
                "maxDuration": 0,
                "reconnectWindow": True,
                "enableRecording": "yes",
                "metadata": {"livestream_name": "   ", "count": 3, "live": True, "nested": {"a": 1}},
                "playbackIds": [{"accessPolicy": "public"}, "x", {"id": "p1"}],
                "mediaIds": "m1",
                "simulcastResponses": {"simulcastId": "s1"},
                "srtPlaybackResponse": None,
            }
        )
    )

    stream = client.get_stream(STREAM_ID)

    assert stream.created_at is None
    assert stream.max_duration == 0  # unlimited (A22), not replaced by the default
    assert stream.reconnect_window == 60
    assert stream.enable_recording is True
    assert stream.metadata == {"livestream_name": "   ", "count": "3", "live": "true"}
    assert stream.name == "847b8ec8…"
    assert stream.playback_ids == (PlaybackId(id="p1", access_policy="public"),)
    assert (stream.media_ids, stream.simulcasts, stream.srt_playback_stream_id) == ((), (), "")


def test_naive_timestamps_are_taken_as_utc() -> None:
    client, _, _ = make_client(ok({"streamId": STREAM_ID, "createdAt": "2025-11-27T06:23:55"}))

    assert client.get_stream(STREAM_ID).created_at == datetime(2025, 11, 27, 6, 23, 55, tzinfo=UTC)


@pytest.mark.parametrize(
    ("wire", "parsed"),
    [
        ("2025-11-27T11:53:55+05:30", datetime(2025, 11, 27, 6, 23, 55, tzinfo=UTC)),
        ("0001-01-01T00:00:00+05:00", None),  # no UTC time: year 0, which no database column holds
    ],
)
def test_timestamps_with_an_offset_are_handed_out_in_utc(wire: str, parsed: datetime | None) -> None:
    client, _, _ = make_client(ok({"streamId": STREAM_ID, "createdAt": wire}))

    created_at = client.get_stream(STREAM_ID).created_at

    assert created_at == parsed
    assert created_at is None or created_at.tzinfo is UTC


def test_the_primary_playback_id_is_the_first_public_one() -> None:
    private = PlaybackId(id="a", access_policy="private")
    public = PlaybackId(id="b", access_policy="public")

    assert LiveStream(stream_id=STREAM_ID, playback_ids=(private, public)).primary_playback_id == public
    assert LiveStream(stream_id=STREAM_ID, playback_ids=(private,)).primary_playback_id == private


def test_a_short_stream_id_is_its_own_name() -> None:
    assert LiveStream(stream_id="abc").name == "abc"


def test_list_streams_leaves_out_rows_without_a_stream_id() -> None:
    client, _, _ = make_client(
        ok([{"status": "idle"}, "junk", SEED001_STREAM], pagination={"totalRecords": 3})
    )

    page = client.list_streams()

    assert [stream.stream_id for stream in page.items] == [STREAM_ID]


@pytest.mark.parametrize(
    ("status", "ready", "failed", "processing"),
    [
        ("Ready", True, False, False),
        ("Failed", False, True, False),
        ("Processing", False, False, True),
        ("In Queue", False, False, True),
        ("Transmogrifying", False, False, True),
    ],
)
def test_media_is_ready_failed_or_still_processing(
    status: str, ready: bool, failed: bool, processing: bool
) -> None:
    media = Media(id=MEDIA_ID, status=status)

    assert (media.is_ready, media.is_failed, media.is_processing) == (ready, failed, processing)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("00:00:10", 10), ("01:02:03", 3723), ("02:03", 123), ("00:00:10.6", 11), (None, None), ("soon", None)],
)
def test_media_duration_is_converted_to_seconds(duration: str | None, seconds: int | None) -> None:
    assert Media(id=MEDIA_ID, duration=duration).duration_seconds == seconds


def test_a_media_with_only_an_id_parses_with_defaults() -> None:
    client, _, _ = make_client(ok({"id": MEDIA_ID}))

    media = client.get_media(MEDIA_ID)

    assert media == Media(id=MEDIA_ID)
    assert media.status == "Unknown"
    assert media.is_processing
    assert media.primary_playback_id is None


# --------------------------------------------------------------------------------------------------------
# Pagination (contract §1.8, A1, A2)


@pytest.mark.parametrize(
    ("total", "limit", "page_count"),
    [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (100, 50, 2), (3, 1, 3)],
)
def test_page_count_comes_from_total_records_and_the_limit(total: int, limit: int, page_count: int) -> None:
    assert Page(items=(), total=total, page=1, limit=limit).page_count == page_count


def test_page_count_ignores_offset_count() -> None:
    client, _, _ = make_client(
        ok([SEED001_STREAM], pagination={"totalRecords": 25, "currentOffset": 1, "offsetCount": 1})
    )

    assert client.list_streams(limit=10).page_count == 3


def test_an_empty_list_is_one_empty_page_with_nowhere_to_go() -> None:
    client, _, _ = make_client(ok([], pagination={"totalRecords": 0, "currentOffset": 1, "offsetCount": 0}))

    page = client.list_streams()

    assert page == Page(items=(), total=0, page=1, limit=10)
    assert (page.page_count, page.has_next, page.has_previous) == (0, False, False)


def test_a_list_without_pagination_counts_what_it_sees() -> None:
    client, _, _ = make_client(ok([SEED001_STREAM]))

    page = client.list_streams(page=3, limit=5)

    assert (page.total, page.page, page.limit, page.page_count) == (11, 3, 5, 3)
    assert page.has_previous
    assert not page.has_next


# --------------------------------------------------------------------------------------------------------
# Observability


def test_upstream_calls_records_every_attempt() -> None:
    client, _, _ = make_client(fail(503, "busy"), httpx.ConnectError, ok({"views": 4}))
    calls: list[UpstreamCall] = []
    token = upstream_calls.set(calls)
    try:
        client.get_viewer_count(STREAM_ID)
    finally:
        upstream_calls.reset(token)

    path = f"/live/streams/{STREAM_ID}/viewer-count"
    assert [(call.method, call.path, call.status) for call in calls] == [
        ("GET", path, 503),
        ("GET", path, None),
        ("GET", path, 200),
    ]
    assert all(call.elapsed_ms >= 0 for call in calls)


def test_nothing_is_recorded_when_no_one_is_counting() -> None:
    client, _, _ = make_client(ok({"views": 4}))

    client.get_viewer_count(STREAM_ID)

    assert upstream_calls.get() is None


def test_each_attempt_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="streams.client")
    client, _, _ = make_client(fail(503, "busy"), ok({"views": 4}))

    client.get_viewer_count(STREAM_ID)

    debug = [
        record.getMessage()
        for record in caplog.records
        if record.name == "streams.client" and record.levelno == logging.DEBUG
    ]
    path = f"/live/streams/{STREAM_ID}/viewer-count"
    assert len(debug) == 2
    assert re.fullmatch(rf"fastpix GET {path} -> 503 in \d+ ms", debug[0])
    assert re.fullmatch(rf"fastpix GET {path} -> 200 in \d+ ms", debug[1])


def test_one_client_serves_many_threads_at_once() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        stream_id = request.url.path.split("/")[-2]
        return ok({"views": int(stream_id)})

    client = FastPixClient(
        base_url=BASE_URL,
        token_id=TOKEN_ID,
        secret=SECRET,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )
    calls: list[UpstreamCall] = []
    token = upstream_calls.set(calls)
    try:
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=16) as pool:
            counts = list(pool.map(lambda n: context.copy().run(client.get_viewer_count, str(n)), range(50)))
    finally:
        upstream_calls.reset(token)

    assert [count.views for count in counts] == list(range(50))
    assert len(calls) == 50


# --------------------------------------------------------------------------------------------------------
# Construction and the process-wide client


def test_the_client_builds_its_own_pooled_http_client_with_explicit_timeouts() -> None:
    client = FastPixClient(
        base_url=BASE_URL, token_id=TOKEN_ID, secret=SECRET, timeout=7.0, connect_timeout=2.0
    )

    assert client._http.timeout == httpx.Timeout(7.0, connect=2.0)
    client.close()
    assert client._http.is_closed


def test_closing_leaves_an_injected_http_client_open() -> None:
    http_client = httpx.Client(transport=httpx.MockTransport(Upstream()))
    client = FastPixClient(base_url=BASE_URL, token_id=TOKEN_ID, secret=SECRET, http_client=http_client)

    client.close()

    assert not http_client.is_closed


def test_get_client_builds_one_client_from_settings_and_reset_forgets_it(settings: Any) -> None:
    settings.FASTPIX_API_BASE = "http://127.0.0.1:8765/v1/"
    settings.FASTPIX_TOKEN_ID = TOKEN_ID
    settings.FASTPIX_SECRET_KEY = SECRET
    settings.FASTPIX_TIMEOUT = 2.5
    settings.FASTPIX_RETRY_BACKOFF = 0.0
    reset_client()
    try:
        first = get_client()

        assert get_client() is first
        assert first.base_url == "http://127.0.0.1:8765/v1"
        assert first._http.timeout == httpx.Timeout(2.5, connect=2.5)
        assert first._backoff(1) == 0.0

        reset_client()

        assert first._http.is_closed
        assert get_client() is not first
    finally:
        reset_client()


def test_media_duration_in_seconds_as_a_number_is_understood_too() -> None:
    # The spec says "HH:MM:SS"; the vendor's SDK 1.2.0 types it as a float of seconds.
    from streams.client import _parse_media

    assert _parse_media({"id": "m", "duration": 4321.6}).duration_seconds == 4322
    assert _parse_media({"id": "m", "duration": "01:12:01"}).duration_seconds == 4321


@pytest.mark.parametrize(
    "body",
    [{"success": True}, {"success": True, "data": {"streamId": STREAM_ID}}, {"success": True, "data": None}],
    ids=["no-data", "data-object", "data-null"],
)
def test_a_list_without_a_data_array_is_a_malformed_answer_not_an_empty_list(body: dict[str, Any]) -> None:
    client, _, _ = make_client(httpx.Response(200, json=body), httpx.Response(200, json=body))

    with pytest.raises(ApiError) as streams:
        client.list_streams()
    with pytest.raises(ApiError) as clips:
        client.list_live_clips(STREAM_ID)

    assert streams.value.status == 200
    assert streams.value.message == "FastPix sent a list without a data array"
    assert clips.value.message == "FastPix sent a list without a data array"


def test_list_rows_whose_id_is_not_a_fastpix_stream_id_are_left_out() -> None:
    rows = [
        {"streamId": STREAM_ID, "status": "idle"},
        {"streamId": "a" * 31 + "\u0000", "status": "idle"},
        {"streamId": "../../on-demand", "status": "idle"},
        {"streamId": STREAM_ID.upper(), "status": "idle"},
    ]
    client, _, _ = make_client(ok(rows, pagination={"totalRecords": 4}))

    page = client.list_streams()

    assert [stream.stream_id for stream in page.items] == [STREAM_ID]


def test_a_stream_answer_with_a_malformed_id_keeps_the_id_asked_for() -> None:
    client, _, _ = make_client(ok({"streamId": "x\r\ny", "status": "idle"}))

    assert client.get_stream(STREAM_ID).stream_id == STREAM_ID
