"""FastPix webhooks from the emulator (contract §5): events queued by the state machine, signed and POSTed by a
background thread, redelivered with exponential back-off, with chaos controls for tests.

The state machine calls `Webhooks.emit` under its own lock: emitting only appends to a queue, so an API call
never waits for a delivery, and the events an API call causes are queued once its answer has been sent
(`after_answer`, around each /v1 route), as FastPix's arrive after the call. One delivery thread sends in event order (earliest due first), so a failed event
waits for its retry while later ones go out: exactly the late and out-of-order arrivals a receiver must
tolerate. A second thread, the ticker, settles the state every `TICK_SECONDS` while a target is configured,
so time-driven transitions (a reconnect window running out, `maxDuration`, a recording becoming ready) fire
their events even when nobody calls the API.

This module imports nothing else from the emulator: `state.py` builds the events.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import hashlib
import heapq
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

TICK_SECONDS = 0.2
DELIVERY_LOG_LIMIT = 10_000
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_RETRY_BASE_SECONDS = 0.2
DEFAULT_TIMEOUT_SECONDS = 5.0
CHAOS_ACTIONS = ("drop", "duplicate", "delay", "hold")

ChaosAction = Literal["drop", "duplicate", "delay", "hold"]

# The events an API call causes, kept until its answer has been sent (Webhooks.after_answer).
_answering: contextvars.ContextVar[list[Event] | None] = contextvars.ContextVar("answering", default=None)


def signature(raw_body: bytes, signing_secret_b64: str) -> str:
    """`FastPix-Signature` (contract §5.3): Base64 HMAC-SHA256 of the exact body, key = the decoded secret."""
    key = base64.b64decode(signing_secret_b64, validate=True)
    return base64.b64encode(hmac.new(key, raw_body, hashlib.sha256).digest()).decode()


def is_signing_secret(text: str) -> bool:
    try:
        return bool(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        return False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One thing that happened, with `data` as the API showed it at that moment (already a snapshot)."""

    type: str
    object_type: Literal["live", "media"]
    object_id: str
    stream_id: str
    status: str
    data: dict[str, Any]
    created_at: str
    workspace_id: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def payload(self, attempts: list[dict[str, Any]]) -> dict[str, Any]:
        """The §5.2 envelope, in its documented key order."""
        return {
            "id": self.id,
            "type": self.type,
            "object": {"type": self.object_type, "id": self.object_id},
            "workspace": {"id": self.workspace_id, "name": "emulator"},
            "status": self.status,
            "data": self.data,
            "createdAt": self.created_at,
            "attempts": attempts,
        }


@dataclass(frozen=True)
class Target:
    url: str
    signing_secret_b64: str
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_base_seconds: float = DEFAULT_RETRY_BASE_SECONDS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


@dataclass
class Delivery:
    """One delivery of an event (a duplicate is a second Delivery of the same event)."""

    event: Event
    attempts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChaosRule:
    action: ChaosAction
    times: int
    type_regex: re.Pattern[str] | None = None
    delay_ms: float = 0.0

    def matches(self, event: Event) -> bool:
        return self.type_regex is None or self.type_regex.search(event.type) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "times": self.times,
            "type_regex": self.type_regex.pattern if self.type_regex else None,
            "delay_ms": self.delay_ms,
        }


class Webhooks:
    """The delivery queue. `settle` is the state's "apply what is due now", called by the ticker."""

    def __init__(self, *, settle: Callable[[], None], initial: Target | None = None) -> None:
        self._settle = settle
        self._initial = initial
        self._cond = threading.Condition()
        self._target: Target | None = None
        self._queue: list[tuple[float, int, Delivery]] = []  # (due on the monotonic clock, order, delivery)
        self._order = 0
        self._held: list[Delivery] = []
        self._chaos: list[ChaosRule] = []
        self._in_flight = 0
        self._answering = 0  # events kept by calls still answering (after_answer)
        self._generation = 0  # bumped by reset/clear: a delivery in flight then is forgotten
        self._log: deque[dict[str, Any]] = deque(maxlen=DELIVERY_LOG_LIMIT)
        self._counts = {"delivered": 0, "failed": 0, "dropped": 0}
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._stop_ticking = threading.Event()
        # Read without the lock by the state machine on every transition: a plain attribute is atomic.
        self.enabled = False
        self.reset()

    # ------------------------------------------------------------------------------ configuration

    def reset(self) -> None:
        """Back to the start-up configuration (the CLI flags), with nothing queued, held or logged."""
        with self._cond:
            self._forget_everything()
            self._log.clear()
            self._counts = dict.fromkeys(self._counts, 0)
        if self._initial is not None:
            self.configure(self._initial)

    def configure(self, target: Target) -> None:
        with self._cond:
            self._target = target
            self.enabled = True
            self._start_threads()
            self._cond.notify_all()

    def clear(self) -> None:
        """Stop delivering: nothing more is queued, and what was queued or held is dropped."""
        with self._cond:
            self._forget_everything()

    def _forget_everything(self) -> None:
        self._target = None
        self.enabled = False
        self._queue.clear()
        self._held.clear()
        self._chaos.clear()
        self._generation += 1
        self._in_flight = 0  # a delivery being sent now is forgotten too: its result is not recorded
        self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._forget_everything()
        self._stop_ticking.set()
        for thread in self._threads:
            thread.join(timeout=2)

    def status(self) -> dict[str, Any]:
        with self._cond:
            target = self._target
            return {
                "url": target.url if target else None,
                "maxAttempts": target.max_attempts if target else None,
                "retryBaseSeconds": target.retry_base_seconds if target else None,
                "pending": len(self._queue) + self._in_flight + self._answering,
                "held": len(self._held),
                **self._counts,
                "chaos": [rule.to_json() for rule in self._chaos],
            }

    def deliveries(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._log)

    def clear_deliveries(self) -> int:
        with self._cond:
            count = len(self._log)
            self._log.clear()
            return count

    # ---------------------------------------------------------------------------------------- chaos

    def add_chaos(
        self, action: ChaosAction, *, times: int, type_regex: str | None = None, delay_ms: float = 0.0
    ) -> ChaosRule:
        rule = ChaosRule(action, times, re.compile(type_regex) if type_regex else None, delay_ms)
        with self._cond:
            self._chaos.append(rule)
        return rule

    def clear_chaos(self) -> int:
        with self._cond:
            count = len(self._chaos)
            self._chaos.clear()
            return count

    def release(self) -> int:
        """Deliver every held event now, newest first (a reordering)."""
        with self._cond:
            held, self._held = self._held, []
            now = time.monotonic()
            for delivery in reversed(held):
                self._push(now, delivery)
            return len(held)

    def _take_rule(self, event: Event) -> ChaosRule | None:
        for rule in self._chaos:
            if rule.matches(event):
                rule.times -= 1
                if rule.times <= 0:
                    self._chaos.remove(rule)
                return rule
        return None

    # -------------------------------------------------------------------------------------- queueing

    @contextlib.contextmanager
    def after_answer(self) -> Iterator[None]:
        """Around an API call: the events it causes are queued once its answer has been sent. FastPix
        delivers webhooks asynchronously, after the call; sent at once, the delivery thread took the
        interpreter while the answer was still being written, and the call took longer than its latency."""
        kept: list[Event] = []
        with self._cond:
            generation = self._generation
        token = _answering.set(kept)
        try:
            yield
        finally:
            _answering.reset(token)
            # One step under the (re-entrant) lock: `pending` never misses the events between the two, and
            # a reset or clear while the call was answering forgets them, as it forgets everything queued.
            with self._cond:
                self._answering -= len(kept)
                if generation == self._generation:
                    for event in kept:
                        self.emit(event)

    def emit(self, event: Event) -> None:
        """Queue an event (called under the state's lock: this must stay quick and never block)."""
        kept = _answering.get()
        if kept is not None:
            with self._cond:
                kept.append(event)
                self._answering += 1
            return
        with self._cond:
            if self._target is None:
                return
            now = time.monotonic()
            rule = self._take_rule(event)
            if rule is None:
                self._push(now, Delivery(event))
            elif rule.action == "drop":
                self._counts["dropped"] += 1
            elif rule.action == "duplicate":
                self._push(now, Delivery(event))
                self._push(now, Delivery(event))
            elif rule.action == "delay":
                self._push(now + rule.delay_ms / 1000, Delivery(event))
            else:
                self._held.append(Delivery(event))

    def _push(self, due: float, delivery: Delivery) -> None:
        self._order += 1
        heapq.heappush(self._queue, (due, self._order, delivery))
        self._cond.notify_all()

    # --------------------------------------------------------------------------------------- threads

    def _start_threads(self) -> None:
        if self._threads:
            return
        self._threads = [
            threading.Thread(target=self._deliver_forever, name="emulator-webhooks", daemon=True),
            threading.Thread(target=self._tick_forever, name="emulator-webhook-ticker", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _tick_forever(self) -> None:
        while not self._stop_ticking.wait(TICK_SECONDS):
            if self.enabled:
                # Outside our lock: settling takes the state's lock, which emits under it (lock order).
                self._settle()

    def _next(self) -> tuple[Delivery, Target, int] | None:
        """Under the lock: wait for the earliest due delivery. None once closed."""
        while not self._closed:
            if self._queue and self._target is not None:
                wait = self._queue[0][0] - time.monotonic()
                if wait <= 0:
                    delivery = heapq.heappop(self._queue)[2]
                    self._in_flight = 1
                    return delivery, self._target, self._generation
                self._cond.wait(wait)
            else:
                self._cond.wait()
        return None

    def _deliver_forever(self) -> None:
        with httpx.Client(follow_redirects=False) as http:
            while True:
                with self._cond:
                    taken = self._next()
                if taken is None:
                    return
                delivery, target, generation = taken
                entry = self._send(http, delivery, target)
                with self._cond:
                    self._in_flight = 0
                    if generation == self._generation:
                        self._record(delivery, target, entry)
                    self._cond.notify_all()

    def _send(self, http: httpx.Client, delivery: Delivery, target: Target) -> dict[str, Any]:
        event = delivery.event
        raw = json.dumps(event.payload(delivery.attempts), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "FastPix-Signature": signature(raw, target.signing_secret_b64),
        }
        sent_at = datetime.now(UTC)
        status: int | None = None
        error: str | None = None
        try:
            response = http.post(target.url, content=raw, headers=headers, timeout=target.timeout_seconds)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return {
            "eventId": event.id,
            "type": event.type,
            "streamId": event.stream_id,
            "attempt": len(delivery.attempts) + 1,
            "status": status,
            "error": error,
            "sentAt": _iso(sent_at),
            "createdAt": event.created_at,
        }

    def _record(self, delivery: Delivery, target: Target, entry: dict[str, Any]) -> None:
        """Under the lock: log the attempt; on failure queue the next one, back-off doubling each time."""
        self._log.append(entry)
        status = entry["status"]
        if status is not None and 200 <= status < 300:
            self._counts["delivered"] += 1
            return
        attempt: dict[str, Any] = {"attempt": entry["attempt"], "status": status, "at": entry["sentAt"]}
        if entry["error"]:
            attempt["error"] = entry["error"]
        delivery.attempts.append(attempt)
        if len(delivery.attempts) >= target.max_attempts:
            self._counts["failed"] += 1
            return
        backoff = target.retry_base_seconds * 2 ** (len(delivery.attempts) - 1)
        self._push(time.monotonic() + backoff, delivery)
