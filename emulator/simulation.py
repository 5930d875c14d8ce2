"""Background simulation for the demo: encoders connect and drop, viewers drift, sessions end.

It drives the state only through the same operations the control API uses, so everything it does is
something a test could do by hand. Recordings and reconnect-window expiry are the state machine's job
(state.py); the simulation only decides *when* encoders come and go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from emulator.errors import ApiError
from emulator.state import State

log = logging.getLogger("emulator.simulation")

CONNECT_CHANCE = 0.5  # per tick, while fewer streams are on air than the target
GO_LIVE_CHANCE = 0.15  # per tick, for each preparing stream (a few seconds of "preparing")
DROP_CHANCE = 0.01  # per tick, for each active stream
FINISH_CHANCE = 0.005  # per tick, for each active stream
COMEBACK_SHARE = 0.6  # dropped encoders that come back within their window


class Simulation:
    def __init__(self, state: State, *, rng: random.Random | None = None, tick_seconds: float = 1.0) -> None:
        self.state = state
        self.rng = rng or random.Random()
        self.tick_seconds = tick_seconds
        self._comebacks: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start ticking on the running event loop (idempotent)."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="emulator-simulation")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            try:
                self.step()
            except Exception:  # keep the demo alive; a bug here must not take the server down
                log.exception("simulation tick failed")

    def step(self) -> None:
        """One tick. Public so tests can drive the simulation without waiting."""
        rng, state = self.rng, self.state
        now = state.now()
        groups = state.ids_by_status()
        total = sum(len(ids) for ids in groups.values())
        target = max(1, round(total / 6))  # keep roughly 1 in 6 streams live...
        warming = max(1, total // 30)  # ...and a few more preparing to go live
        on_air = len(groups["active"]) + len(groups["preparing"])
        if groups["idle"] and on_air < target + warming and rng.random() < CONNECT_CHANCE:
            self._try(state.connect, rng.choice(groups["idle"]))
        for stream_id in groups["preparing"]:
            if len(groups["active"]) < target + warming and rng.random() < GO_LIVE_CHANCE:
                self._try(state.go_live, stream_id)
                self._try(state.set_viewers, stream_id, rng.randint(3, 40))
        for stream_id in groups["active"]:
            self._tick_active(stream_id, now, len(groups["active"]) > target)
        self._comebacks = {sid: at for sid, at in self._comebacks.items() if sid in groups["active"]}

    def _tick_active(self, stream_id: str, now: datetime, crowded: bool) -> None:
        rng, state = self.rng, self.state
        try:
            info = state.stream_state(stream_id)
        except ApiError:
            return
        if not info["encoderConnected"]:
            comeback = self._comebacks.get(stream_id)
            if comeback is not None and now >= comeback:
                del self._comebacks[stream_id]
                self._try(state.connect, stream_id)
            return  # otherwise the reconnect window runs out and the state machine ends the session
        roll = rng.random()
        if roll < DROP_CHANCE:
            self._try(state.disconnect, stream_id, expire=False)
            if rng.random() < COMEBACK_SHARE:
                window = info["stream"]["reconnectWindow"]
                self._comebacks[stream_id] = now + timedelta(seconds=rng.uniform(3, min(30, window * 0.8)))
        elif roll < DROP_CHANCE + FINISH_CHANCE and crowded:
            self._try(state.finish_stream, stream_id)
        else:
            views = int(info["views"])
            swing = max(2, views // 25)
            views = max(1, views + rng.randint(-swing, swing + 1))  # a slight upward drift
            self._try(state.set_viewers, stream_id, views)

    @staticmethod
    def _try(action: Callable[..., object], *args: object, **kwargs: object) -> None:
        # The workspace may have changed under us (a test or the dashboard deleted the stream): skip.
        with contextlib.suppress(ApiError):
            action(*args, **kwargs)
