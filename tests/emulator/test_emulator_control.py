"""The `/_emulator` control API (contract §8) and the seeded demo workspace."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from emulator.state import parse_iso
from emulator.testing import EmulatorControl, EmulatorControlError, EmulatorServer
from tests.emulator.support import data


def test_health_answers_without_auth(emulator_server: EmulatorServer) -> None:
    assert httpx.get(f"{emulator_server.base_url}/_emulator/health").json() == {"ok": True}


def test_create_stream_returns_the_vendor_object_exactly_as_get_does(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream(
        status="active",
        metadata={"livestream_name": "Main stage"},
        trial=False,
        views=214,
        liveSeconds=4320,
        reconnectWindow=60,
        enableRecording=True,
        mediaPolicy="public",
        createdAt="2025-11-25T09:46:38.323193Z",
    )
    assert stream == data(api.get(f"/live/streams/{stream['streamId']}"))
    assert stream["createdAt"] == "2025-11-25T09:46:38.323193Z"
    assert data(api.get(f"/live/streams/{stream['streamId']}/viewer-count")) == {"views": 214}


def test_stream_state_exposes_the_emulator_only_facts(control: EmulatorControl) -> None:
    before = datetime.now(UTC)
    stream = control.create_stream(status="active", liveSeconds=4320, views=9)
    state = control.stream_state(stream["streamId"])
    assert state["stream"] == stream
    assert state["views"] == 9
    assert state["encoderConnected"] is True
    assert state["disconnectedAt"] is None
    went_live = parse_iso(state["activeSince"])
    assert before - timedelta(seconds=4321) <= went_live <= datetime.now(UTC) - timedelta(seconds=4320)


def test_idle_streams_have_no_active_since_and_no_encoder(control: EmulatorControl) -> None:
    state = control.stream_state(control.create_stream()["streamId"])
    assert (state["activeSince"], state["encoderConnected"], state["views"]) == (None, False, 0)


def test_connect_then_go_live_walks_idle_preparing_active(control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    assert control.connect(stream_id)["stream"]["status"] == "preparing"
    live = control.go_live(stream_id)
    assert live["stream"]["status"] == "active"
    assert live["activeSince"] is not None


def test_go_live_from_idle_goes_through_preparing_in_one_call(control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    assert control.go_live(stream_id)["stream"]["status"] == "active"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("disabled", "connect"),
        ("disabled", "go_live"),
        ("active", "go_live"),
        ("active", "connect"),
        ("idle", "disconnect"),
    ],
)
def test_control_transitions_the_state_does_not_allow_are_409(
    control: EmulatorControl, status: str, action: str
) -> None:
    stream_id = control.create_stream(status=status)["streamId"]
    with pytest.raises(EmulatorControlError) as caught:
        getattr(control, action)(stream_id)
    assert caught.value.status == 409


def test_control_calls_on_unknown_streams_are_404(control: EmulatorControl) -> None:
    with pytest.raises(EmulatorControlError) as caught:
        control.go_live("nope")
    assert caught.value.status == 404


@pytest.mark.parametrize(
    "body",
    [{"status": "live"}, {"views": -1}, {"liveSeconds": "long"}, {"createdAt": "yesterday"}, {"trial": "no"}],
)
def test_create_stream_refuses_bad_control_fields(emulator_server: EmulatorServer, body: dict) -> None:
    response = httpx.post(f"{emulator_server.base_url}/_emulator/streams", json=body)
    assert response.status_code in (400, 422)
    assert response.json()["success"] is False


def test_media_can_be_created_and_inspected(control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    media = control.create_media(stream_id, status="Processing", duration_seconds=3723)
    state = control.media(media["id"])
    assert state == {"media": media, "kind": "recording", "readyAt": None}
    assert media["duration"] == "01:02:03"
    assert control.set_media_status(media["id"], "Ready")["media"]["status"] == "Ready"


def test_settings_round_trip_and_reset_restores_them(control: EmulatorControl) -> None:
    assert control.settings() == {"latency_ms": 0.0, "simulate": False, "processing_seconds": 0.0}
    assert control.settings(latency_ms=5, processing_seconds=2) == {
        "latency_ms": 5.0,
        "simulate": False,
        "processing_seconds": 2.0,
    }
    control.reset()
    assert control.settings()["latency_ms"] == 0.0


def test_simulation_can_be_switched_on_and_off_at_runtime(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    simulation = emulator_server.app.state.simulation
    assert control.settings(simulate=True)["simulate"] is True
    assert simulation.running
    assert control.settings(simulate=False)["simulate"] is False
    assert not simulation.running
    control.settings(simulate=True)
    control.reset()  # back to the server's own configuration: simulation off
    assert not simulation.running


def test_reset_empties_the_workspace(api: httpx.Client, control: EmulatorControl) -> None:
    control.create_stream()
    control.reset()
    assert api.get("/live/streams").json()["pagination"]["totalRecords"] == 0


class TestSeededWorkspace:
    @pytest.fixture
    def streams(self, api: httpx.Client, control: EmulatorControl) -> list[dict]:
        control.reset(seed=60)
        found: list[dict] = []
        for page in (1, 2):
            found += api.get("/live/streams", params={"limit": 50, "offset": page}).json()["data"]
        return found

    def test_seeding_fills_the_workspace_with_n_streams(self, streams: list[dict]) -> None:
        assert len(streams) == 60
        assert len({s["streamId"] for s in streams}) == 60

    def test_the_demo_is_lively(self, api: httpx.Client, streams: list[dict]) -> None:
        statuses = Counter(s["status"] for s in streams)
        assert statuses["active"] == 10  # 1 in 6
        assert statuses["preparing"] >= 1
        assert statuses["disabled"] >= 1
        assert sum(s["trial"] for s in streams) >= 1
        for stream in streams:
            if stream["status"] == "active":
                assert data(api.get(f"/live/streams/{stream['streamId']}/viewer-count"))["views"] > 0

    def test_every_seeded_stream_has_a_name_and_some_more_metadata(self, streams: list[dict]) -> None:
        names = [s["metadata"]["livestream_name"] for s in streams]
        assert "Main stage" in names
        assert "Keynote — Hall B" in names
        assert all(len(s["metadata"]) >= 2 for s in streams)

    def test_seeded_recordings_cover_ready_processing_failed_and_private(
        self, api: httpx.Client, streams: list[dict]
    ) -> None:
        recordings = [
            data(api.get(f"/on-demand/{media_id}")) for s in streams for media_id in s.get("mediaIds", [])
        ]
        statuses = Counter(m["status"] for m in recordings)
        assert statuses["Processing"] == 1
        assert statuses["Failed"] == 1
        assert statuses["Ready"] >= 3
        assert any(m["playbackIds"][0]["accessPolicy"] == "private" for m in recordings)

    def test_some_seeded_streams_have_live_clips(self, api: httpx.Client, streams: list[dict]) -> None:
        totals = [
            api.get(f"/on-demand/{s['streamId']}/live-clips").json()["pagination"]["totalRecords"]
            for s in streams
        ]
        assert sum(1 for total in totals if total) >= 2


def test_seeding_is_deterministic_for_an_rng_seed() -> None:
    def listing() -> list[dict]:
        with EmulatorServer(seed=30, rng_seed=7) as server:
            auth = (server.token_id, server.secret)
            streams = httpx.get(f"{server.api_base}/live/streams", params={"limit": 50}, auth=auth).json()[
                "data"
            ]
        for stream in streams:
            del stream["createdAt"]  # an offset from "now"; everything else must match
        return sorted(streams, key=lambda s: s["streamId"])

    first, second = listing(), listing()
    assert first == second
    assert len(first) == 30
