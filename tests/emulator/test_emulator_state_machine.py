"""Every cell of the operation legality matrix (contract §4.3), with status, envelope and resulting state."""

from __future__ import annotations

import httpx
import pytest

from emulator.testing import EmulatorControl
from tests.emulator.support import assert_error, data

STATUSES = ["idle", "preparing", "active", "disabled"]
ALREADY_ENABLED = ("stream is already enabled", "The requested stream is already in an enabled state.")
ALREADY_DISABLED = ("stream already disabled", "The requested stream is already disabled.")
NOT_ACTIVE = ("stream is not active", "The stream can be completed only while it is in the active state.")
DISABLED = (
    "stream is disabled",
    "The requested stream is disabled and cannot be updated. Enable the stream first.",
)
TRIAL = (
    "stream cannot be enabled on trial plan",
    "The requested stream cannot be enabled while on a trial plan. Please upgrade your plan.",
)


def status_of(api: httpx.Client, stream_id: str) -> str:
    return str(data(api.get(f"/live/streams/{stream_id}"))["status"])


@pytest.mark.parametrize("status", STATUSES)
def test_get_list_and_viewer_count_are_allowed_in_every_state(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    assert data(api.get(f"/live/streams/{stream_id}"))["status"] == status
    assert [s["streamId"] for s in api.get("/live/streams").json()["data"]] == [stream_id]
    assert api.get(f"/live/streams/{stream_id}/viewer-count").status_code == 200


@pytest.mark.parametrize("status", ["idle", "preparing", "active"])
def test_patch_is_allowed_while_enabled(api: httpx.Client, control: EmulatorControl, status: str) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    patched = data(
        api.patch(f"/live/streams/{stream_id}", json={"metadata": {"a": "b"}, "reconnectWindow": 120})
    )
    assert patched["status"] == status
    assert patched["metadata"] == {"a": "b"}
    assert patched["reconnectWindow"] == 120


def test_patch_on_a_disabled_stream_is_refused_with_400_and_changes_nothing(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(status="disabled", metadata={"livestream_name": "Main stage"})
    response = api.patch(f"/live/streams/{stream['streamId']}", json={"metadata": {"a": "b"}})
    assert_error(response, 400, *DISABLED)  # A6
    assert data(api.get(f"/live/streams/{stream['streamId']}")) == stream


@pytest.mark.parametrize("status", ["idle", "preparing", "active"])
def test_enable_on_an_enabled_stream_is_refused_with_400_already_enabled(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    assert_error(api.put(f"/live/streams/{stream_id}/live-enable"), 400, *ALREADY_ENABLED)
    assert status_of(api, stream_id) == status


def test_enable_on_a_disabled_stream_makes_it_idle(api: httpx.Client, control: EmulatorControl) -> None:
    stream_id = control.create_stream(status="disabled")["streamId"]
    response = api.put(f"/live/streams/{stream_id}/live-enable")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert status_of(api, stream_id) == "idle"


def test_enable_on_a_disabled_trial_stream_is_refused_with_400_trial_plan(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="disabled", trial=True)["streamId"]
    assert_error(api.put(f"/live/streams/{stream_id}/live-enable"), 400, *TRIAL)
    assert status_of(api, stream_id) == "disabled"


@pytest.mark.parametrize("status", ["idle", "preparing", "active"])
def test_disable_makes_an_enabled_stream_disabled(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream(status=status, views=40)["streamId"]
    response = api.put(f"/live/streams/{stream_id}/live-disable")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert status_of(api, stream_id) == "disabled"
    state = control.stream_state(stream_id)
    assert state["encoderConnected"] is False  # disabling ends the broadcast (seed001:L269)
    assert data(api.get(f"/live/streams/{stream_id}/viewer-count")) == {"views": 0}


def test_disable_on_a_disabled_stream_is_refused_with_400_already_disabled(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="disabled")["streamId"]
    assert_error(api.put(f"/live/streams/{stream_id}/live-disable"), 400, *ALREADY_DISABLED)


@pytest.mark.parametrize("status", ["idle", "preparing", "disabled"])
def test_finish_on_a_stream_that_is_not_active_is_refused_with_400(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    assert_error(api.put(f"/live/streams/{stream_id}/finish"), 400, *NOT_ACTIVE)  # A7
    assert status_of(api, stream_id) == status


def test_finish_on_an_active_stream_makes_it_idle_and_disconnects_the_encoder(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream(status="active", views=99)["streamId"]
    response = api.put(f"/live/streams/{stream_id}/finish")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert status_of(api, stream_id) == "idle"
    assert control.stream_state(stream_id)["encoderConnected"] is False


@pytest.mark.parametrize("status", STATUSES)
def test_delete_is_allowed_in_every_state(api: httpx.Client, control: EmulatorControl, status: str) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    assert api.delete(f"/live/streams/{stream_id}").json() == {"success": True}
    assert_error(api.get(f"/live/streams/{stream_id}"), 404, "stream not found")


@pytest.mark.parametrize("status", STATUSES)
def test_live_playback_ids_can_be_created_read_and_deleted_in_every_state(
    api: httpx.Client, control: EmulatorControl, status: str
) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    created = data(api.post(f"/live/streams/{stream_id}/playback-ids", json={"accessPolicy": "private"}), 201)
    assert created["accessPolicy"] == "private"
    assert data(api.get(f"/live/streams/{stream_id}/playback-ids/{created['id']}")) == created
    deleted = api.delete(f"/live/streams/{stream_id}/playback-ids", params={"playbackId": created["id"]})
    assert deleted.json() == {"success": True}
    assert_error(
        api.get(f"/live/streams/{stream_id}/playback-ids/{created['id']}"),
        404,
        "stream/playbackId not found",
        "The requested resource (eg:streamId/playbackId) doesn't exist in the workspace",
    )


def test_a_full_lifecycle_walks_the_documented_transitions(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = data(api.post("/live/streams", json={"playbackSettings": {}, "inputMediaSettings": {}}), 201)[
        "streamId"
    ]
    seen = [status_of(api, stream_id)]
    control.connect(stream_id)
    seen.append(status_of(api, stream_id))
    control.go_live(stream_id)
    seen.append(status_of(api, stream_id))
    api.put(f"/live/streams/{stream_id}/finish")
    seen.append(status_of(api, stream_id))
    api.put(f"/live/streams/{stream_id}/live-disable")
    seen.append(status_of(api, stream_id))
    api.put(f"/live/streams/{stream_id}/live-enable")
    seen.append(status_of(api, stream_id))
    assert seen == ["idle", "preparing", "active", "idle", "disabled", "idle"]


class TestSimulcastRules:
    """The simulcast rows of §4.3 (create only when idle, not on trial; update not when disabled)."""

    BODY = {
        "url": "rtmp://a.rtmp.youtube.com/live2/",
        "streamKey": "yt-key",
        "metadata": {"platform": "YouTube"},
    }

    def test_create_on_an_idle_stream_returns_201_with_the_key_echoed(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        created = data(api.post(f"/live/streams/{stream_id}/simulcast", json=self.BODY), 201)
        assert created == {
            "simulcastId": created["simulcastId"],
            "url": self.BODY["url"],
            "streamKey": "yt-key",
            "isEnabled": True,
            "metadata": {"platform": "YouTube"},
        }
        assert data(api.get(f"/live/streams/{stream_id}/simulcast/{created['simulcastId']}")) == created

    @pytest.mark.parametrize("status", ["preparing", "active", "disabled"])
    def test_create_when_not_idle_is_refused_with_400(
        self, api: httpx.Client, control: EmulatorControl, status: str
    ) -> None:
        stream_id = control.create_stream(status=status)["streamId"]
        response = api.post(f"/live/streams/{stream_id}/simulcast", json=self.BODY)
        assert_error(response, 400, "simulcast can only be created when the stream is idle")

    def test_create_on_a_trial_stream_is_refused_with_the_vendor_message(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(trial=True)["streamId"]
        response = api.post(f"/live/streams/{stream_id}/simulcast", json=self.BODY)
        assert_error(response, 400, "Simulcast is not available for trial streams")

    @pytest.mark.parametrize("status", ["idle", "preparing", "active"])
    def test_update_and_delete_work_while_enabled(
        self, api: httpx.Client, control: EmulatorControl, status: str
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        simulcast = data(api.post(f"/live/streams/{stream_id}/simulcast", json=self.BODY), 201)
        path = f"/live/streams/{stream_id}/simulcast/{simulcast['simulcastId']}"
        if status != "idle":
            control.connect(stream_id)
        if status == "active":
            control.go_live(stream_id)
        assert status_of(api, stream_id) == status
        updated = data(api.put(path, json={"isEnabled": False}))
        assert updated["isEnabled"] is False
        assert updated["metadata"] == {"platform": "YouTube"}
        assert api.delete(path).json() == {"success": True}
        assert_error(api.get(path), 404, "stream/simulcast not found")

    def test_update_on_a_disabled_stream_is_refused_with_400_but_get_and_delete_work(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        simulcast = data(api.post(f"/live/streams/{stream_id}/simulcast", json=self.BODY), 201)
        api.put(f"/live/streams/{stream_id}/live-disable")
        path = f"/live/streams/{stream_id}/simulcast/{simulcast['simulcastId']}"
        assert_error(api.put(path, json={"isEnabled": False}), 400, *DISABLED)
        assert data(api.get(path)) == simulcast  # get and delete stay allowed
        assert api.delete(path).json() == {"success": True}

    def test_there_is_no_simulcast_listing_route(self, api: httpx.Client, control: EmulatorControl) -> None:
        stream_id = control.create_stream()["streamId"]
        assert_error(api.get(f"/live/streams/{stream_id}/simulcast"), 404, "route not found")  # A10
