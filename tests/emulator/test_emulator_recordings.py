"""Recordings (contract §4.4), media by id (§3.12) and live clips (§3.13) over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from emulator.testing import EmulatorControl
from tests.emulator.support import TIMESTAMP, UUID4, assert_error, data


def media_ids(api: httpx.Client, stream_id: str) -> list[str]:
    return list(data(api.get(f"/live/streams/{stream_id}")).get("mediaIds", []))


def test_finishing_an_active_stream_creates_one_ready_recording(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(
        status="active", liveSeconds=4320, metadata={"livestream_name": "Main stage"}
    )["streamId"]
    api.put(f"/live/streams/{stream_id}/finish")
    [media_id] = media_ids(api, stream_id)
    assert UUID4.fullmatch(media_id)
    media = data(api.get(f"/on-demand/{media_id}"))
    playback_id = media["playbackIds"][0]["id"]
    assert UUID4.fullmatch(playback_id)
    assert media["id"] == media_id
    assert media["streamId"] == stream_id
    assert media["status"] == "Ready"  # processing_seconds is 0 in tests
    assert media["duration"] == "01:12:00"  # the session length, HH:MM:SS
    assert media["playbackIds"][0]["accessPolicy"] == "public"
    assert media["thumbnail"] == f"https://images.fastpix.com/{playback_id}/thumbnail.png"
    assert TIMESTAMP.fullmatch(media["createdAt"])
    assert media["metadata"] == {"livestream_name": "Main stage"}


def test_a_recording_of_a_private_media_policy_stream_has_a_private_playback_id(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active", mediaPolicy="private")["streamId"]
    api.put(f"/live/streams/{stream_id}/finish")
    [media_id] = media_ids(api, stream_id)
    assert data(api.get(f"/on-demand/{media_id}"))["playbackIds"][0]["accessPolicy"] == "private"


def test_finishing_without_enable_recording_creates_no_recording(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active", enableRecording=False)["streamId"]
    api.put(f"/live/streams/{stream_id}/finish")
    assert "mediaIds" not in data(api.get(f"/live/streams/{stream_id}"))


def test_created_with_enable_recording_false_through_the_api_a_session_leaves_no_media(
    api: httpx.Client, control: EmulatorControl
) -> None:
    body = {"playbackSettings": {}, "inputMediaSettings": {"enableRecording": False}}
    stream_id = data(api.post("/live/streams", json=body), 201)["streamId"]
    control.go_live(stream_id)
    api.put(f"/live/streams/{stream_id}/finish")
    assert media_ids(api, stream_id) == []


def test_an_expired_disconnect_ends_the_session_as_idle_with_a_recording(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active", liveSeconds=600)["streamId"]
    state = control.disconnect(stream_id, expire=True)
    assert state["stream"]["status"] == "idle"
    [media_id] = media_ids(api, stream_id)
    assert data(api.get(f"/on-demand/{media_id}"))["duration"] == "00:10:00"


def test_a_disconnect_within_the_window_keeps_the_session_and_reconnecting_resumes_it(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active", views=12, reconnectWindow=600)["streamId"]
    state = control.disconnect(stream_id)
    assert state["stream"]["status"] == "active"
    assert state["encoderConnected"] is False
    assert state["disconnectedAt"] is not None
    assert media_ids(api, stream_id) == []
    resumed = control.connect(stream_id)
    assert resumed["stream"]["status"] == "active"
    assert resumed["encoderConnected"] is True
    api.put(f"/live/streams/{stream_id}/finish")
    assert len(media_ids(api, stream_id)) == 1  # one session, one recording


def test_a_preparing_stream_that_loses_its_encoder_leaves_no_recording(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="preparing")["streamId"]
    assert control.disconnect(stream_id, expire=True)["stream"]["status"] == "idle"
    assert media_ids(api, stream_id) == []


def test_every_session_adds_its_own_media_id(api: httpx.Client, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    for _ in range(3):
        control.go_live(stream_id)
        api.put(f"/live/streams/{stream_id}/finish")
    ids = media_ids(api, stream_id)
    assert len(ids) == len(set(ids)) == 3


def test_disabling_a_live_stream_ends_its_session_and_keeps_the_recording(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active")["streamId"]
    api.put(f"/live/streams/{stream_id}/live-disable")
    assert len(media_ids(api, stream_id)) == 1


def test_a_recording_is_processing_until_processing_seconds_have_passed(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.settings(processing_seconds=0.5)
    stream_id = control.create_stream(status="active")["streamId"]
    api.put(f"/live/streams/{stream_id}/finish")
    [media_id] = media_ids(api, stream_id)
    assert data(api.get(f"/on-demand/{media_id}"))["status"] == "Processing"
    time.sleep(0.5)
    assert data(api.get(f"/on-demand/{media_id}"))["status"] == "Ready"


@pytest.mark.parametrize("status", ["Failed", "Processing", "Ready"])
def test_the_control_api_sets_a_media_status(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream()["streamId"]
    media_id = control.create_media(stream_id)["id"]
    control.set_media_status(media_id, status)
    assert data(api.get(f"/on-demand/{media_id}"))["status"] == status


def test_unknown_media_is_404_media_workspace_relation_not_found(api: httpx.Client) -> None:
    assert_error(
        api.get("/on-demand/4fa85f64-5717-4562-b3fc-2c963f66afa6"),
        404,
        "media workspace relation not found",
        "The requested resource (eg:mediaId) doesn't exist in the workspace",
    )


def test_recordings_outlive_their_deleted_stream(api: httpx.Client, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    media_id = control.create_media(stream_id)["id"]
    api.delete(f"/live/streams/{stream_id}")
    assert data(api.get(f"/on-demand/{media_id}"))["streamId"] == stream_id


class TestLiveClips:
    def test_clips_are_listed_newest_first_with_pagination(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        clips = [
            control.create_media(stream_id, kind="clip", created_at=f"2025-11-25T10:0{i}:00.000000Z")["id"]
            for i in range(3)
        ]
        control.create_media(stream_id, kind="recording")  # recordings are not clips
        body = api.get(f"/on-demand/{stream_id}/live-clips", params={"limit": 2}).json()
        assert [c["id"] for c in body["data"]] == clips[::-1][:2]
        assert body["pagination"] == {"totalRecords": 3, "currentOffset": 1, "offsetCount": 2}
        assert all(c["streamId"] == stream_id for c in body["data"])
        page_two = api.get(f"/on-demand/{stream_id}/live-clips", params={"limit": 2, "offset": 2}).json()
        assert [c["id"] for c in page_two["data"]] == [clips[0]]

    def test_clips_order_by_asc_is_oldest_first(self, api: httpx.Client, control: EmulatorControl) -> None:
        stream_id = control.create_stream()["streamId"]
        clips = [
            control.create_media(stream_id, kind="clip", created_at=f"2025-11-25T10:0{i}:00.000000Z")["id"]
            for i in range(3)
        ]
        body = api.get(f"/on-demand/{stream_id}/live-clips", params={"orderBy": "asc"}).json()
        assert [c["id"] for c in body["data"]] == clips

    def test_an_unknown_stream_has_an_empty_clip_list_not_a_404(self, api: httpx.Client) -> None:
        response = api.get("/on-demand/0123456789abcdef0123456789abcdef/live-clips")
        assert response.status_code == 200  # A19
        assert response.json() == {
            "success": True,
            "data": [],
            "pagination": {"totalRecords": 0, "currentOffset": 1, "offsetCount": 0},
        }

    def test_a_clip_is_also_a_media_by_id(self, api: httpx.Client, control: EmulatorControl) -> None:
        stream_id = control.create_stream()["streamId"]
        clip = control.create_media(stream_id, kind="clip", duration_seconds=42)
        fetched = data(api.get(f"/on-demand/{clip['id']}"))
        assert fetched == clip
        assert fetched["duration"] == "00:00:42"
