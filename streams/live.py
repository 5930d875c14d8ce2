"""Live numbers shared by everyone watching: viewer counts and stream statuses.

Every value here goes through Django's cache (local memory in one process, Redis across processes), so
100 people watching the same page cost FastPix what one person costs: one call per stream per period.
A short lock in the cache lets exactly one request refresh a value; everyone else keeps serving the
previous one meanwhile, so a cache expiry never becomes a burst of identical upstream calls, and a
refresh never makes a poll wait for FastPix when there is something to show.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches

from streams.client import FastPixError, LiveStream, NotFound, get_client

T = TypeVar("T")

# FastPix calls a page makes side by side (viewer counts of up to 50 active rows, recordings).
fetch_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fastpix")

_WAIT_STEP = 0.02


@functools.cache
def shared_cache() -> BaseCache:
    """One cache object for the whole process. Django's `cache` proxy is per thread, and the pool's
    threads would each open their own Redis connection pool (a new TCP connection per task)."""
    return caches.create_connection("default")


@dataclass(frozen=True, slots=True)
class Reading:
    """A shared value and when it was fetched; `failed` marks a failed fetch remembered for one period."""

    value: Any
    fetched_at: float
    failed: bool = False

    def is_fresh(self, ttl: float) -> bool:
        return time.time() - self.fetched_at < ttl


def _ttl() -> float:
    return float(settings.VIEWER_COUNT_TTL)


def shared(
    key: str,
    fetch: Callable[[], T],
    *,
    ttl: float | None = None,
    reading: Reading | None = None,
    serve_stale: bool = True,
    refresh: bool = False,
) -> Reading:
    """The value under `key`, fetched at most once per `ttl` seconds across every process.

    With `serve_stale`, a stale value is served at once while one request refreshes it in the
    background; without it, callers wait for a fresh one. With nothing to serve, the other requests
    wait for the one refreshing (bounded by the FastPix timeout) instead of calling FastPix themselves.
    `reading` is what the caller already read from the cache; `refresh` skips the cache altogether.
    """
    cache = shared_cache()
    ttl = _ttl() if ttl is None else ttl
    if refresh:
        return _refresh(key, fetch, ttl, None)
    if reading is None:
        reading = cache.get(key)
    if reading is not None and reading.is_fresh(ttl):
        return reading
    lock_key = f"{key}:refreshing"
    lock_seconds = max(int(settings.FASTPIX_TIMEOUT * 3) + 1, 2)
    if cache.add(lock_key, 1, timeout=lock_seconds):
        # Someone may have refreshed it between our read and taking the lock: check again.
        latest: Reading | None = cache.get(key)
        if latest is not None and latest.is_fresh(ttl):
            cache.delete(lock_key)
            return latest
        if reading is not None and serve_stale:
            submit(_refresh, key, fetch, ttl, lock_key)
            return reading
        return _refresh(key, fetch, ttl, lock_key)
    if reading is not None and serve_stale:
        return reading
    deadline = time.time() + lock_seconds
    while time.time() < deadline:
        time.sleep(_WAIT_STEP)
        latest = cache.get(key)
        if latest is not None and latest.is_fresh(ttl):
            return latest
    return _refresh(key, fetch, ttl, None)


def _refresh(key: str, fetch: Callable[[], T], ttl: float, lock_key: str | None) -> Reading:
    cache = shared_cache()
    try:
        reading = Reading(fetch(), time.time())
    except NotFound:
        reading = Reading(None, time.time())
    except FastPixError as exc:
        reading = Reading(exc, time.time(), failed=True)
    # Kept for a few periods so that a refresh in progress can serve the previous value.
    cache.set(key, reading, timeout=max(int(ttl * 6), 30))
    if lock_key:
        cache.delete(lock_key)
    return reading


def submit(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Run `fn` on the FastPix pool, in this request's context (so its calls are logged with it)."""
    context = contextvars.copy_context()
    return fetch_pool.submit(context.run, fn, *args)


def viewer_counts(stream_ids: Iterable[str]) -> dict[str, Reading]:
    """Viewer counts (approximate, contract §9 A9) for these streams.

    One cache read for all of them; only the missing ones are fetched, side by side, and a stale one
    is served while it is refreshed in the background.
    """
    ids = list(dict.fromkeys(stream_ids))
    if not ids:
        return {}
    client = get_client()
    keys = {stream_id: f"viewers:{stream_id}" for stream_id in ids}
    found: dict[str, Reading] = shared_cache().get_many(list(keys.values()))
    results: dict[str, Reading] = {}
    missing: dict[str, Future[Reading]] = {}
    for stream_id, key in keys.items():
        reading = found.get(key)

        def fetch(sid: str = stream_id) -> int:
            return client.get_viewer_count(sid).views

        if reading is None:
            missing[stream_id] = submit(shared, key, fetch)
        else:
            results[stream_id] = shared(key, fetch, reading=reading)
    results.update({stream_id: future.result() for stream_id, future in missing.items()})
    return {stream_id: results[stream_id] for stream_id in ids}


def views_of(reading: Reading | None) -> int | None:
    """The viewer count in a reading, or None when it is unknown (failed, or the stream is gone)."""
    if reading is None or reading.failed or reading.value is None:
        return None
    return int(reading.value)


def without_secrets(stream: LiveStream) -> LiveStream:
    """The stream as it may be shared through the cache: no stream key, SRT secrets or simulcast keys."""
    return dataclasses.replace(
        stream,
        stream_key="",
        srt_secret="",
        srt_playback_secret="",
        simulcasts=tuple(dataclasses.replace(target, stream_key="") for target in stream.simulcasts),
    )


def remember_stream(stream: LiveStream) -> None:
    """A stream a page just read, for the fragments that page loads next (its recordings)."""
    shared_cache().set(
        f"stream:{stream.stream_id}", Reading(without_secrets(stream), time.time()), timeout=60
    )


def recent_stream(stream_id: str) -> Reading:
    """The stream (secrets dropped) as read within LIST_SHARE_SECONDS, else from FastPix now."""
    return shared(
        f"stream:{stream_id}",
        lambda: without_secrets(get_client().get_stream(stream_id)),
        ttl=settings.LIST_SHARE_SECONDS,
        serve_stale=False,
    )


def forget_stream(stream_id: str) -> None:
    """Drop what we remember of a stream after we changed it, so the next look is fresh."""
    cache = shared_cache()
    cache.delete_many([f"viewers:{stream_id}", f"status:{stream_id}", f"stream:{stream_id}"])
    try:
        cache.incr("streams:generation")
    except ValueError:
        cache.add("streams:generation", 1, timeout=None)


def generation() -> int:
    """Bumped whenever this console changes a stream; part of every shared list key."""
    value = shared_cache().get("streams:generation")
    return int(value) if value is not None else 0


# FastPix does not say when a broadcast began, so the console remembers when it first saw each stream
# live. The confirmation dialogs then say "live for at least 1 h 12 min": a floor, never a guess.
LIVE_SINCE_SECONDS = 2 * 24 * 3600


def note_statuses(statuses: Iterable[tuple[str, str]]) -> None:
    """Record (stream id, status) sightings: the first sighting of a broadcast, and its end."""
    cache = shared_cache()
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
    since = shared_cache().get(f"live-since:{stream_id}")
    return None if since is None else max(time.time() - float(since), 0.0)
