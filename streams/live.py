"""Live numbers shared by everyone watching: viewer counts and stream statuses.

Every value here goes through Django's cache (local memory in one process, Redis across processes), so
100 people watching the same page cost FastPix what one person costs: one call per stream per period.
A short lock in the cache lets exactly one request refresh a value while the others keep serving the
previous one, so a cache expiry never becomes a burst of identical upstream calls.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache

from streams.client import FastPixError, NotFound, get_client

T = TypeVar("T")

# FastPix calls a page makes side by side (viewer counts of up to 50 active rows, recordings).
fetch_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fastpix")

_WAIT_STEP = 0.02


@dataclass(frozen=True, slots=True)
class Reading:
    """A shared value and when it was fetched; `failed` marks a failed fetch remembered for one period."""

    value: Any
    fetched_at: float
    failed: bool = False


def _ttl() -> float:
    return float(settings.VIEWER_COUNT_TTL)


def shared(key: str, fetch: Callable[[], T], *, ttl: float | None = None) -> Reading:
    """The value under `key`, fetched at most once per `ttl` seconds across every process.

    A stale value is served while one request refreshes it. With nothing to serve, the other requests
    wait for the refresher (bounded by the FastPix timeout) instead of calling FastPix themselves.
    """
    ttl = _ttl() if ttl is None else ttl
    reading: Reading | None = cache.get(key)
    now = time.time()
    if reading is not None and now - reading.fetched_at < ttl:
        return reading
    lock_key = f"{key}:refreshing"
    lock_seconds = max(int(settings.FASTPIX_TIMEOUT * 3) + 1, 2)
    if cache.add(lock_key, 1, timeout=lock_seconds):
        try:
            return _refresh(key, fetch, ttl)
        finally:
            cache.delete(lock_key)
    if reading is not None:
        return reading
    deadline = now + lock_seconds
    while time.time() < deadline:
        time.sleep(_WAIT_STEP)
        reading = cache.get(key)
        if reading is not None:
            return reading
    return _refresh(key, fetch, ttl)


def _refresh(key: str, fetch: Callable[[], T], ttl: float) -> Reading:
    try:
        reading = Reading(fetch(), time.time())
    except NotFound:
        reading = Reading(None, time.time())
    except FastPixError as exc:
        reading = Reading(exc, time.time(), failed=True)
    # Kept for a few periods so that a refresh in progress can serve the previous value.
    cache.set(key, reading, timeout=max(int(ttl * 6), 30))
    return reading


def submit(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Run `fn` on the FastPix pool, in this request's context (so its calls are logged with it)."""
    context = contextvars.copy_context()
    return fetch_pool.submit(context.run, fn, *args)


def viewer_counts(stream_ids: Iterable[str]) -> dict[str, Reading]:
    """Viewer counts (approximate, contract §9 A9) for these streams, fetched side by side."""
    ids = list(dict.fromkeys(stream_ids))
    client = get_client()
    futures = {
        stream_id: submit(
            shared, f"viewers:{stream_id}", lambda sid=stream_id: client.get_viewer_count(sid).views
        )
        for stream_id in ids
    }
    return {stream_id: future.result() for stream_id, future in futures.items()}


def forget_stream(stream_id: str) -> None:
    """Drop what we remember of a stream after we changed it, so the next look is fresh."""
    cache.delete_many([f"viewers:{stream_id}", f"status:{stream_id}"])
    try:
        cache.incr("streams:generation")
    except ValueError:
        cache.add("streams:generation", 1, timeout=None)


def generation() -> int:
    """Bumped whenever this console changes a stream; part of every shared list key."""
    value = cache.get("streams:generation")
    return int(value) if value is not None else 0


# FastPix does not say when a broadcast began, so the console remembers when it first saw each stream
# live. The confirmation dialogs then say "live for at least 1 h 12 min": a floor, never a guess.
LIVE_SINCE_SECONDS = 2 * 24 * 3600


def note_statuses(statuses: Iterable[tuple[str, str]]) -> None:
    """Record (stream id, status) sightings: the first sighting of a broadcast, and its end."""
    now = time.time()
    ended = []
    for stream_id, status in statuses:
        if status == "active":
            cache.add(f"live-since:{stream_id}", now, timeout=LIVE_SINCE_SECONDS)
        else:
            ended.append(f"live-since:{stream_id}")
    if ended:
        cache.delete_many(ended)


def live_for(stream_id: str) -> float | None:
    """Seconds since the console first saw this broadcast live, or None if it has not."""
    since = cache.get(f"live-since:{stream_id}")
    return None if since is None else max(time.time() - float(since), 0.0)
