"""How the worker's jobs spend FastPix calls: one rate limit for all of them, and a way to stop at once.

Every call a job makes waits for its slot on one `Pacer` (FASTPIX_RATE_LIMIT calls per second, evenly
spaced), so the sampler, the refresher and the reconciler together never exceed the limit, and a 429 pauses
them all. A `Context` carries the pacer, the worker's own FastPix client and the halt signal: a job calls
`check()` between its steps and stops with `Interrupted` when the worker lost its lease or is shutting down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from streams.client import FastPixClient, FastPixError, NotFound

T = TypeVar("T")

# Calls in flight at once: FastPix answers in ~50 ms, so 8 threads carry 150 calls/s with room to spare.
# The threads only make HTTP calls; every database write stays on the job's own thread.
POOL_THREADS = 8
# A fan-out gives up once calls mostly fail (FastPix down, or hanging until each call times out): at least
# this many failures, and twice as many as answers. The job records the error and its lane backs off.
GIVE_UP_FAILURES = 5


class Interrupted(Exception):
    """The job must stop now: the worker lost its lease, or it is shutting down."""


class JobFailed(Exception):
    """A job that could not do its work (FastPix down, a walk cut short). `detail` says what it did do."""

    def __init__(self, message: str, detail: dict[str, object]) -> None:
        super().__init__(message)
        self.detail = detail


class Pacer:
    """At most `rate` call starts per second, evenly spaced, shared by every thread of the worker."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._interval = 1.0 / rate
        self._next = 0.0  # time.monotonic() of the next free slot
        self._lock = threading.Lock()

    def slot(self) -> float:
        """Reserve the next free slot; returns when (time.monotonic()) the call may start."""
        with self._lock:
            start = max(time.monotonic(), self._next)
            self._next = start + self._interval
            return start

    def hold(self, seconds: float) -> None:
        """FastPix asked us to wait (429): no slot starts before `seconds` from now."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


def worker_client() -> FastPixClient:
    """The worker's own client: one attempt per call, so every attempt, retries included, goes through the
    pacer and the jobs decide what a failure means (the sampler skips a stream, a walk reads a page again)."""
    timeout = float(settings.FASTPIX_TIMEOUT)
    return FastPixClient(
        base_url=settings.FASTPIX_API_BASE,
        token_id=settings.FASTPIX_TOKEN_ID,
        secret=settings.FASTPIX_SECRET_KEY,
        timeout=timeout,
        connect_timeout=min(3.0, timeout),
        max_attempts=1,
    )


def _always_valid() -> bool:
    return True


@dataclass
class Context:
    """What a job runs with. One per lane (a job's thread); the client and the pacer are shared."""

    client: FastPixClient
    pacer: Pacer
    # False once the lease can no longer be trusted (lease.Keeper.valid); always True outside a worker.
    lease_valid: Callable[[], bool] = _always_valid
    halt: threading.Event = field(default_factory=threading.Event)
    reason: str = ""
    _calls: int = 0
    _calls_lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    @classmethod
    def standalone(cls) -> Context:
        """A context for running one job by hand (tests, a shell): its own client, the configured rate."""
        return cls(client=worker_client(), pacer=Pacer(float(settings.FASTPIX_RATE_LIMIT)))

    def stop(self, reason: str) -> None:
        self.reason = self.reason or reason
        self.halt.set()

    @property
    def lost_lease(self) -> bool:
        return not self.lease_valid()

    def check(self) -> None:
        """Between two steps of a job: raise Interrupted if the job must stop."""
        if self.halt.is_set():
            raise Interrupted(self.reason or "stopping")
        if not self.lease_valid():
            raise Interrupted("lost the lease")

    def sleep(self, seconds: float) -> None:
        """Wait, but stop at once when halted or when the lease is lost."""
        deadline = time.monotonic() + seconds
        while True:
            self.check()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.halt.wait(min(left, 0.1))

    def wait_for_slot(self) -> None:
        """Until the pacer lets the next call start."""
        start = self.pacer.slot()
        self.sleep(start - time.monotonic())
        with self._calls_lock:
            self._calls += 1

    def call(self, read: Callable[[], T]) -> T:
        """One paced FastPix call."""
        self.wait_for_slot()
        return read()

    def fan_out(
        self,
        stream_ids: Sequence[str],
        call: Callable[[str], T],
        handle: Callable[[str, datetime, T | FastPixError], None],
        *,
        offsets: Sequence[float] | None = None,
        skip: Callable[[str], bool] | None = None,
        flush: Callable[[], None] | None = None,
        flush_every: float = 0.5,
    ) -> bool:
        """`call(stream_id)` for each id on the pool, each start paced and, with `offsets`, not before
        that many seconds from now. `handle(stream_id, started_at, result or error)` runs on this thread
        as results arrive, so database writes stay here; `flush()` too, every `flush_every` seconds (batched writes).
        `skip(stream_id)`, asked just before a call would start, leaves that id out.
        False when it gave up because the calls mostly failed (GIVE_UP_FAILURES)."""
        began = time.monotonic()
        pending: dict[Future[T], tuple[str, datetime]] = {}
        last_beat = began
        answered = failed = 0

        def drain(timeout: float) -> None:
            nonlocal last_beat, answered, failed
            if pending:
                done, _ = wait(list(pending), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    stream_id, started_at = pending.pop(future)
                    error = future.exception()
                    if error is not None and not isinstance(error, FastPixError):
                        raise error
                    if error is None or isinstance(error, NotFound):
                        answered += 1
                    else:
                        failed += 1
                    handle(stream_id, started_at, future.result() if error is None else error)
            elif timeout > 0:
                self.sleep(timeout)
            if flush is not None and time.monotonic() - last_beat >= flush_every:
                last_beat = time.monotonic()
                flush()

        def until(moment: float) -> None:
            while True:
                self.check()
                left = moment - time.monotonic()
                if left <= 0:
                    return
                drain(min(left, 0.1))

        def giving_up() -> bool:
            return failed >= GIVE_UP_FAILURES and failed > 2 * answered

        for index, stream_id in enumerate(stream_ids):
            if offsets is not None:
                until(began + offsets[index])
            drain(0)
            if giving_up():
                break
            if skip is not None and skip(stream_id):
                continue
            until(self.pacer.slot())
            with self._calls_lock:
                self._calls += 1
            pending[self.pool().submit(call, stream_id)] = (stream_id, timezone.now())
        while pending and not giving_up():
            self.check()
            drain(0.1)
        for future in pending:
            future.cancel()  # calls not started yet; one already running ends with its timeout, unread
        if flush is not None:
            flush()
        return not giving_up()

    def pool(self) -> ThreadPoolExecutor:
        """The threads this context's calls run on when several must be in flight at once."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="fastpix-call")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def take_calls(self) -> int:
        """Calls made since the last time this was asked (a job's `calls` in its WorkerRun detail)."""
        with self._calls_lock:
            calls, self._calls = self._calls, 0
            return calls
