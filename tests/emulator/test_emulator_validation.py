"""Every validation rule of contract §7: 422 `payload validation failed` with the offending `fields`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorControl
from tests.emulator.support import assert_fields, data

ELEVEN = {f"k{i}": "v" for i in range(11)}
TEN = {f"k{i}": "v" for i in range(10)}
LONG = "x" * 256
MAX = "x" * 255


def create_body(**input_media: Any) -> dict[str, Any]:
    return {"playbackSettings": {}, "inputMediaSettings": input_media}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("playbackSettings", "must not be null"), ("inputMediaSettings", "must not be null")]),
        ({"inputMediaSettings": {}}, [("playbackSettings", "must not be null")]),
        ({"playbackSettings": {}}, [("inputMediaSettings", "must not be null")]),
        ({"playbackSettings": None, "inputMediaSettings": {}}, [("playbackSettings", "must not be null")]),
        (
            {"playbackSettings": "public", "inputMediaSettings": {}},
            [("playbackSettings", "must be an object")],
        ),
        ({"playbackSettings": {}, "inputMediaSettings": []}, [("inputMediaSettings", "must be an object")]),
        (
            {"playbackSettings": {"accessPolicy": "drm"}, "inputMediaSettings": {}},
            [("playbackSettings.accessPolicy", "must be one of [public, private]")],
        ),
        (
            create_body(maxResolution="4k"),
            [("inputMediaSettings.maxResolution", "must be one of [1080p, 720p, 480p]")],
        ),
        (
            create_body(mediaPolicy="drm"),
            [("inputMediaSettings.mediaPolicy", "must be one of [public, private]")],
        ),
        (
            create_body(reconnectWindow=59),
            [("inputMediaSettings.reconnectWindow", "must be between 60 and 1800")],
        ),
        (
            create_body(reconnectWindow=1801),
            [("inputMediaSettings.reconnectWindow", "must be between 60 and 1800")],
        ),
        (create_body(reconnectWindow="60"), [("inputMediaSettings.reconnectWindow", "must be an integer")]),
        (create_body(reconnectWindow=60.5), [("inputMediaSettings.reconnectWindow", "must be an integer")]),
        (create_body(reconnectWindow=True), [("inputMediaSettings.reconnectWindow", "must be an integer")]),
        (create_body(enableDvrMode="yes"), [("inputMediaSettings.enableDvrMode", "must be a boolean")]),
        (create_body(enableRecording=1), [("inputMediaSettings.enableRecording", "must be a boolean")]),
        (create_body(metadata="name"), [("inputMediaSettings.metadata", "must be an object")]),
        (create_body(metadata=ELEVEN), [("inputMediaSettings.metadata", "must have at most 10 entries")]),
        (
            create_body(metadata={"name": LONG}),
            [("inputMediaSettings.metadata.name", "size must be between 0 and 255")],
        ),
        (
            create_body(metadata={LONG: "v"}),
            [("inputMediaSettings.metadata", "keys must be at most 255 characters")],
        ),
        (create_body(metadata={"views": 3}), [("inputMediaSettings.metadata.views", "must be a string")]),
        (
            create_body(maxResolution="8k", reconnectWindow=5),
            [
                ("inputMediaSettings.maxResolution", "must be one of [1080p, 720p, 480p]"),
                ("inputMediaSettings.reconnectWindow", "must be between 60 and 1800"),
            ],
        ),
    ],
)
def test_create_stream_rejects_invalid_bodies_with_422_and_creates_nothing(
    api: httpx.Client, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert_fields(api.post("/live/streams", json=body), *expected)
    assert api.get("/live/streams").json()["pagination"]["totalRecords"] == 0


@pytest.mark.parametrize(
    "input_media",
    [
        {"reconnectWindow": 60},
        {"reconnectWindow": 1800},
        {"metadata": TEN},
        {"metadata": {MAX: MAX}},
        {"metadata": {}},
        {"metadata": None, "reconnectWindow": None},
    ],
)
def test_create_stream_accepts_values_on_the_boundaries(
    api: httpx.Client, input_media: dict[str, Any]
) -> None:
    assert api.post("/live/streams", json=create_body(**input_media)).status_code == 201


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"metadata": ELEVEN}, [("metadata", "must have at most 10 entries")]),
        ({"metadata": {"name": LONG}}, [("metadata.name", "size must be between 0 and 255")]),
        ({"metadata": {LONG: "v"}}, [("metadata", "keys must be at most 255 characters")]),
        ({"metadata": {"n": None}}, [("metadata.n", "must be a string")]),
        ({"metadata": ["a"]}, [("metadata", "must be an object")]),
        ({"reconnectWindow": 59}, [("reconnectWindow", "must be between 60 and 1800")]),
        ({"reconnectWindow": 1801}, [("reconnectWindow", "must be between 60 and 1800")]),
        ({"reconnectWindow": "90"}, [("reconnectWindow", "must be an integer")]),
    ],
)
def test_patch_rejects_invalid_bodies_with_422_and_changes_nothing(
    api: httpx.Client, control: EmulatorControl, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    stream = control.create_stream(metadata={"livestream_name": "Main stage"})
    assert_fields(api.patch(f"/live/streams/{stream['streamId']}", json=body), *expected)
    assert data(api.get(f"/live/streams/{stream['streamId']}")) == stream


def test_patch_accepts_ten_entries_of_255_characters_and_the_window_bounds(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream()["streamId"]
    metadata = {f"{i:0255d}": MAX for i in range(10)}
    assert data(api.patch(f"/live/streams/{stream_id}", json={"metadata": metadata}))["metadata"] == metadata
    for window in (60, 1800):
        patched = data(api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": window}))
        assert patched["reconnectWindow"] == window


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_422(
    api: httpx.Client, control: EmulatorControl, raw: bytes
) -> None:
    stream_id = control.create_stream()["streamId"]
    headers = {"content-type": "application/json"}
    for response in (
        api.post("/live/streams", content=raw, headers=headers),
        api.patch(f"/live/streams/{stream_id}", content=raw, headers=headers),
    ):
        assert_fields(response, ("body", "must be a valid JSON object"))


def test_create_live_playback_id_rejects_an_unknown_access_policy(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream()["streamId"]
    response = api.post(f"/live/streams/{stream_id}/playback-ids", json={"accessPolicy": "drm"})
    assert_fields(response, ("accessPolicy", "must be one of [public, private]"))


def test_create_live_playback_id_defaults_to_public(api: httpx.Client, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    assert data(api.post(f"/live/streams/{stream_id}/playback-ids", json={}), 201)["accessPolicy"] == "public"


def test_delete_live_playback_id_without_the_query_parameter_is_422(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream()["streamId"]
    assert_fields(api.delete(f"/live/streams/{stream_id}/playback-ids"), ("playbackId", "must not be null"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("url", "must not be null"), ("streamKey", "must not be null")]),
        ({"url": " ", "streamKey": "k"}, [("url", "must not be blank")]),
        ({"url": "rtmp://a/", "streamKey": 42}, [("streamKey", "must not be blank")]),
        (
            {"url": "rtmp://a/", "streamKey": "k", "metadata": ELEVEN},
            [("metadata", "must have at most 10 entries")],
        ),
    ],
)
def test_create_simulcast_rejects_invalid_bodies(
    api: httpx.Client, control: EmulatorControl, body: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    stream_id = control.create_stream()["streamId"]
    assert_fields(api.post(f"/live/streams/{stream_id}/simulcast", json=body), *expected)


def test_update_simulcast_rejects_a_non_boolean_is_enabled(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream()["streamId"]
    body = {"url": "rtmp://a/", "streamKey": "k"}
    simulcast_id = data(api.post(f"/live/streams/{stream_id}/simulcast", json=body), 201)["simulcastId"]
    response = api.put(f"/live/streams/{stream_id}/simulcast/{simulcast_id}", json={"isEnabled": "no"})
    assert_fields(response, ("isEnabled", "must be a boolean"))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": 51}, [("limit", "must be between 1 and 50")]),
        ({"offset": 0}, [("offset", "must be greater than or equal to 1")]),
        ({"orderBy": "DESC"}, [("orderBy", "must be one of [asc, desc]")]),
    ],
)
def test_live_clips_paging_is_validated_like_the_stream_list(
    api: httpx.Client, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert_fields(api.get("/on-demand/any-stream/live-clips", params=params), *expected)
