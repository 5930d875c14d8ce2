"""Time-driven rules and the simulation, on a controllable clock (no sleeping).

These drive `emulator.state.State` and `emulator.simulation.Simulation` directly: the rules are the same
ones the HTTP tests exercise, only the clock is ours.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from emulator.runtime import Emulator
from emulator.simulation import Simulation
from emulator.state import State
from emulator.validation import Paging

START = datetime(2025, 11, 27, 6, 23, 55, 650918, tzinfo=UTC)
EVERYTHING = Paging(limit=50, offset=1, order="asc")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(clock: Clock) -> State:
    return State(clock=clock, rng_seed=1)


def test_a_dropped_encoder_keeps_the_stream_active_until_the_window_runs_out(
    state: State, clock: Clock
) -> None:
    stream_id = state.add_stream(status="active", live_seconds=300, reconnect_window=120)["streamId"]
    state.disconnect(stream_id, expire=False)
    clock.advance(119.999)
    assert state.get_stream(stream_id)["status"] == "active"
    clock.advance(0.001)
    stream = state.get_stream(stream_id)
    assert stream["status"] == "idle"
    media = state.get_media(stream["mediaIds"][0])
    assert media["duration"] == "00:05:00"  # the session ended when the encoder left, not when the window did


def test_reconnecting_inside_the_window_cancels_the_expiry(state: State, clock: Clock) -> None:
    stream_id = state.add_stream(status="active", reconnect_window=60)["streamId"]
    state.disconnect(stream_id, expire=False)
    clock.advance(59)
    state.connect(stream_id)
    clock.advance(3600)
    assert state.get_stream(stream_id)["status"] == "active"
    assert "mediaIds" not in state.get_stream(stream_id)


def test_a_stream_reaching_max_duration_goes_idle_with_a_recording(state: State, clock: Clock) -> None:
    stream_id = state.add_stream(status="active", max_duration=3600)["streamId"]
    clock.advance(3599)
    assert state.get_stream(stream_id)["status"] == "active"
    clock.advance(1)
    stream = state.get_stream(stream_id)
    assert stream["status"] == "idle"
    assert state.get_media(stream["mediaIds"][0])["duration"] == "01:00:00"


def test_a_max_duration_of_zero_means_unlimited(state: State, clock: Clock) -> None:
    stream_id = state.add_stream(status="active", max_duration=0)["streamId"]
    clock.advance(10 * 86400)
    assert state.get_stream(stream_id)["status"] == "active"


def test_a_trial_stream_is_turned_off_after_five_minutes(state: State, clock: Clock) -> None:
    stream_id = state.add_stream(status="active", trial=True)["streamId"]
    clock.advance(299)
    assert state.get_stream(stream_id)["status"] == "active"
    clock.advance(1)
    assert state.get_stream(stream_id)["status"] == "disabled"


def test_a_recording_turns_ready_exactly_after_processing_seconds(clock: Clock) -> None:
    state = State(clock=clock, rng_seed=1, processing_seconds=8)
    stream_id = state.add_stream(status="active", live_seconds=30)["streamId"]
    state.finish_stream(stream_id)
    media_id = state.get_stream(stream_id)["mediaIds"][0]
    clock.advance(7.9)
    assert state.get_media(media_id)["status"] == "Processing"
    clock.advance(0.1)
    media = state.get_media(media_id)
    assert media["status"] == "Ready"
    assert media["updatedAt"] == "2025-11-27T06:24:03.650918Z"


def test_seeding_with_the_same_rng_seed_and_clock_is_identical_to_the_byte() -> None:
    def snapshot() -> tuple[list[dict], list[dict]]:
        emu = Emulator(seed=60, rng_seed=42, clock=Clock())
        streams, _ = emu.state.list_streams(EVERYTHING)
        more, _ = emu.state.list_streams(Paging(limit=50, offset=2, order="asc"))
        media = [emu.state.get_media(m) for s in streams + more for m in s.get("mediaIds", [])]
        return streams + more, media

    assert snapshot() == snapshot()


def test_different_rng_seeds_give_different_workspaces() -> None:
    first = Emulator(seed=10, rng_seed=1, clock=Clock()).state.list_streams(EVERYTHING)[0]
    second = Emulator(seed=10, rng_seed=2, clock=Clock()).state.list_streams(EVERYTHING)[0]
    assert {s["streamId"] for s in first}.isdisjoint({s["streamId"] for s in second})


class TestSimulation:
    @pytest.fixture
    def emu(self, clock: Clock) -> Emulator:
        return Emulator(seed=30, rng_seed=3, clock=clock)

    def run(self, simulation: Simulation, clock: Clock, ticks: int) -> list[Counter[str]]:
        history = []
        for _ in range(ticks):
            clock.advance(1)
            simulation.step()
            history.append(Counter({k: len(v) for k, v in simulation.state.ids_by_status().items()}))
        return history

    def test_streams_come_and_go_and_recordings_appear(self, emu: Emulator, clock: Clock) -> None:
        simulation = Simulation(emu.state, rng=random.Random(5))
        before = {s["streamId"]: s for s in emu.state.list_streams(EVERYTHING)[0]}
        history = self.run(simulation, clock, 1800)
        after = {s["streamId"]: s for s in emu.state.list_streams(EVERYTHING)[0]}
        changed = [sid for sid in before if before[sid]["status"] != after[sid]["status"]]
        assert changed, "thirty simulated minutes without a single transition"
        new_media = sum(
            len(after[s].get("mediaIds", [])) - len(before[s].get("mediaIds", [])) for s in before
        )
        assert new_media >= 1
        # Disabled streams are left alone: only the API enables them.
        assert all(after[s]["status"] == "disabled" for s in before if before[s]["status"] == "disabled")
        # Roughly one in six on air, all the time.
        assert all(1 <= h["active"] + h["preparing"] <= 12 for h in history)

    def test_viewer_counts_drift_but_stay_positive_while_active(self, emu: Emulator, clock: Clock) -> None:
        simulation = Simulation(emu.state, rng=random.Random(9))
        active = emu.state.ids_by_status()["active"]
        counts = {sid: emu.state.viewer_count(sid) for sid in active}
        self.run(simulation, clock, 20)
        still = [sid for sid in active if emu.state.get_stream(sid)["status"] == "active"]
        assert still
        assert any(emu.state.viewer_count(sid) != counts[sid] for sid in still)
        assert all(emu.state.viewer_count(sid) > 0 for sid in still)

    def test_a_dropped_encoder_that_comes_back_keeps_its_session(self, clock: Clock) -> None:
        state = State(clock=clock, rng_seed=1)
        stream_id = state.add_stream(status="active", views=10, reconnect_window=300)["streamId"]
        simulation = Simulation(state, rng=random.Random(0))
        simulation._comebacks[stream_id] = clock.now + timedelta(seconds=5)
        state.disconnect(stream_id, expire=False)
        for _ in range(10):
            clock.advance(1)
            simulation.step()
        assert state.stream_state(stream_id)["encoderConnected"] is True
        assert state.get_stream(stream_id)["status"] == "active"
        assert "mediaIds" not in state.get_stream(stream_id)

    def test_the_background_task_ticks_and_stops_cleanly(self, emu: Emulator) -> None:
        ticks = 0

        class Counting(Simulation):
            def step(self) -> None:
                nonlocal ticks
                ticks += 1

        async def main() -> None:
            simulation = Counting(emu.state, tick_seconds=0.01)
            simulation.start()
            simulation.start()  # idempotent
            await asyncio.sleep(0.1)
            assert simulation.running
            await simulation.stop()
            assert not simulation.running

        # In a thread of its own: a browser test in the same worker may hold the main thread's loop.
        failures: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(main())
            except BaseException as exc:  # an assertion inside main() must fail this test
                failures.append(exc)

        runner = threading.Thread(target=run)
        runner.start()
        runner.join(timeout=30)
        assert failures == []
        assert ticks >= 3
