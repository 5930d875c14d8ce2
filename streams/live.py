"""Live numbers shared by everyone watching: viewer counts and reads of the stream list.

Each value goes through Django's cache (local memory in one process, Redis across processes) with the time
it was read, so a hundred people watching one page cost FastPix about what one person costs.

- `fresh(key, fetch, ttl)`: a value at most `ttl` seconds old, read now when it is older. For what a page
  must show as it is (the list a page or a poll renders).
- `viewer_counts(ids)`: counts at most a period old; a due count is refreshed on the FastPix pool by the
  one request that takes a short lock, while everyone keeps the previous count. No request waits on
  another, and no pool task waits on a pool task.

Nothing here makes anything safe or correct: a cached value is at most a period old, and the console's
own changes are seen at once because list keys carry `workspace_version()`, a database value that every
process reads. State that must hold lives in the database (streams/models.py).
"""

from __future__ import annotations

import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.utils import timezone

from streams.client import FastPixError, LiveStream, NotFound, get_client, without_secrets
from streams.models import AuditEntry, LiveSighting, MirroredStream

T = TypeVar("T")

# FastPix calls a page makes side by side (viewer counts of up to 50 active rows, recordings). Tasks on
# it only call FastPix and write the cache: none submits or waits on another task.
fetch_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fastpix")
# A lifecycle action's calls (the mutation, and the re-read sent as soon as FastPix answers it): apart, so
# that a Finish never queues behind a page's reads. One task at a time per request thread.
action_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="fastpix-action")


@functools.cache
def shared_cache() -> BaseCache:
    """One cache object for the whole process. Django's `cache` proxy is per thread, and the pool's
    threads would each open their own Redis connection pool (a new TCP connection per task)."""
    return caches.create_connection("default")


@dataclass(frozen=True, slots=True)
class Reading:
    """A value and when FastPix gave it. A failed read carries the error and is never cached."""

    value: Any
    fetched_at: float
    error: FastPixError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def is_fresh(self, ttl: float) -> bool:
        return time.time() - self.fetched_at < ttl


def submit(fn: Callable[..., T], *args: Any, pool: ThreadPoolExecutor = fetch_pool) -> Future[T]:
    """Run `fn` on a FastPix pool, in this request's context (so its calls are logged with it)."""
    context = contextvars.copy_context()
    return pool.submit(context.run, fn, *args)


def _read(key: str, fetch: Callable[[], Any], keep: float) -> Reading:
    """Read from FastPix now and remember it; a gone stream is remembered as None, a failure not at all."""
    try:
        reading = Reading(fetch(), time.time())
    except NotFound:
        reading = Reading(None, time.time())
    except FastPixError as exc:
        return Reading(None, time.time(), error=exc)
    shared_cache().set(key, reading, timeout=max(int(keep), 1))
    return reading


def fresh(key: str, fetch: Callable[[], Any], *, ttl: float, refresh: bool = False) -> Reading:
    """The value under `key` if it was read less than `ttl` seconds ago, else read now."""
    if not refresh:
        reading: Reading | None = shared_cache().get(key)
        if reading is not None and reading.is_fresh(ttl):
            return reading
    return _read(key, fetch, keep=ttl)


def workspace_version() -> int:
    """Changes whenever this console changes anything in FastPix, in any process: every attempt writes
    an audit entry. Shared reads of the list are keyed by it, so none outlives the console's own change."""
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


# ---------------------------------------------------------------- viewer counts


def _ttl() -> float:
    return float(settings.VIEWER_COUNT_TTL)


def _refresh_count(key: str, stream_id: str, lock: str) -> Reading:
    try:
        return _read(key, lambda: get_client().get_viewer_count(stream_id).views, keep=_ttl() * 6)
    finally:
        shared_cache().delete(lock)


# The counts this process is reading right now: a request that needs one already on its way waits for
# that read instead of making another (a room of producers opening the page at once costs one call).
_flights: dict[str, Future[Reading]] = {}
_flights_lock = threading.Lock()


def _read_or_join(key: str, stream_id: str, take: Callable[[], bool]) -> Future[Reading] | None:
    """The read of this count in flight in this process, or a new one if `take()` wins the cross-process
    lock; None when another process is reading it. Under one lock in this process, so two requests here
    never both miss a read the other is starting."""
    with _flights_lock:
        future = _flights.get(key)
        if future is not None and not future.done():
            return future
        if not take():
            return None
        future = _flights[key] = submit(_refresh_count, key, stream_id, f"{key}:refreshing")
    # Outside the lock: a read that has already landed runs its callback here, at once, and the
    # callback takes the lock (inside it, that was a deadlock whenever FastPix answered instantly).
    future.add_done_callback(lambda done: _landed(key, done))
    return future


def _landed(key: str, future: Future[Reading]) -> None:
    with _flights_lock:
        if _flights.get(key) is future:
            del _flights[key]


def viewer_counts(stream_ids: Iterable[str]) -> dict[str, Reading]:
    """Viewer counts (approximate, contract §9 A9): one cache read for all; the missing ones read from
    FastPix side by side; a due one served as it is while one request refreshes it in the background.

    Across processes a short lock in the cache lets one process read a count at a time. A count nobody
    has read yet while another process is reading it is unknown for this one answer ("–"); the next
    poll has it. Nobody waits on another process, and no pool task waits on another."""
    ids = list(dict.fromkeys(stream_ids))
    if not ids:
        return {}
    cache = shared_cache()
    keys = {stream_id: f"viewers:{stream_id}" for stream_id in ids}
    found: dict[str, Reading] = cache.get_many(list(keys.values()))
    lock_seconds = max(int(float(settings.FASTPIX_TIMEOUT) * 3) + 1, 2)

    def take(key: str, seen: Reading | None) -> bool:
        """Take the lock to read this count, unless someone read it since we looked (then use that)."""
        lock = f"{key}:refreshing"
        if not cache.add(lock, 1, timeout=lock_seconds):
            return False
        latest: Reading | None = cache.get(key)
        if latest is not None and (seen is None or latest.fetched_at > seen.fetched_at):
            cache.delete(lock)
            found[key] = latest
            return False
        return True

    results: dict[str, Reading] = {}
    waiting: dict[str, Future[Reading]] = {}
    for stream_id, key in keys.items():
        seen = found.get(key)
        if seen is not None and seen.is_fresh(_ttl()):
            results[stream_id] = seen
            continue
        future = _read_or_join(key, stream_id, functools.partial(take, key, seen))
        if seen is not None:
            results[stream_id] = found[key]  # due: serve what we have while it is read again
        elif future is not None:
            waiting[stream_id] = future
        else:  # read by someone else meanwhile, or being read by another process right now
            results[stream_id] = found.get(key) or Reading(None, time.time())
    results.update({stream_id: future.result() for stream_id, future in waiting.items()})
    return {stream_id: results[stream_id] for stream_id in ids}


def views_of(reading: Reading | None) -> int | None:
    """The viewer count in a reading, or None when it is unknown (failed, or the stream is gone)."""
    if reading is None or reading.failed or reading.value is None:
        return None
    return int(reading.value)


# ---------------------------------------------------------------- one stream, for the fragments of its page


def remember_stream(stream: LiveStream) -> None:
    """A stream a page just read, for the fragment that page loads next (its recordings)."""
    reading = Reading(without_secrets(stream), time.time())
    shared_cache().set(f"stream:{stream.stream_id}", reading, timeout=60)


def recent_stream(stream_id: str) -> Reading:
    """The stream (secrets dropped) as read within LIST_SHARE_SECONDS, else from FastPix now."""
    return fresh(
        f"stream:{stream_id}",
        lambda: without_secrets(get_client().get_stream(stream_id)),
        ttl=float(settings.LIST_SHARE_SECONDS),
    )


def forget_stream(stream_id: str) -> None:
    """After the console changed a stream: its next read and count come from FastPix."""
    shared_cache().delete_many([f"viewers:{stream_id}", f"stream:{stream_id}"])


# ---------------------------------------------------------------- live since

# FastPix does not say when a broadcast began, so the console keeps when it first saw each stream live
# (a row per live stream). The confirmations then say "live for at least 1 h 12 min": a floor, never a
# guess. Sightings older than this are not trusted (the console may have missed the end of a broadcast).
LIVE_SINCE_LIMIT = timedelta(days=2)


def note_statuses(statuses: Iterable[tuple[str, str]]) -> None:
    """Record (stream id, status) sightings: the first sighting of a broadcast, and its end."""
    now = timezone.now()
    live: set[str] = set()
    ended: set[str] = set()
    for stream_id, status in statuses:
        (live if status == "active" else ended).add(stream_id)
    # One read, and a write only when something changed: most sightings repeat the last one.
    known = set(LiveSighting.objects.filter(stream_id__in=live | ended).values_list("stream_id", flat=True))
    if live - known:
        LiveSighting.objects.bulk_create(
            [LiveSighting(stream_id=stream_id, since=now) for stream_id in live - known],
            ignore_conflicts=True,
        )
    if ended & known:
        LiveSighting.objects.filter(stream_id__in=ended & known).delete()


def live_for(stream_id: str) -> float | None:
    """Seconds since the console first saw this broadcast live, or None if it has not: from the mirror's
    `live_since` or the sighting a page without the mirror noted."""
    mirrored = (
        MirroredStream.objects.filter(stream_id=stream_id, status="active", deleted_at=None)
        .values_list("live_since", flat=True)
        .first()
    )
    sighted = LiveSighting.objects.filter(stream_id=stream_id).values_list("since", flat=True).first()
    # Both are floors of the same broadcast's start (each is cleared when it ends): the earlier is better.
    since = min((moment for moment in (mirrored, sighted) if moment is not None), default=None)
    if since is None or timezone.now() - since > LIVE_SINCE_LIMIT:
        return None
    return max((timezone.now() - since).total_seconds(), 0.0)
