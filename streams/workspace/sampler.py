"""Viewer history: one viewer-count call per live stream per period, for the whole deployment; and thinning
samples older than SAMPLE_KEEP_DAYS to one a minute.

Only the lease holder samples, so however many web processes and tabs there are, FastPix sees one call per
live stream per VIEWER_COUNT_TTL. The calls of a round are spread evenly over the period (call i starts
at i × period / n), never faster than the worker's rate limit (then the round takes longer and says so),
and run a few at a time on the pool, since each takes FastPix ~50 ms. Counts are written in batches, about
twice a period, by `mirror.record_viewers`, which drops the count of a stream no longer live.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from streams.client import FastPixError, NotFound, RateLimited, ViewerCount
from streams.models import ViewerSample, WorkerRun
from streams.workspace import mirror
from streams.workspace.pacing import Context, Interrupted, JobFailed

logger = logging.getLogger("streams.workspace.sampler")

THIN_SPAN = timedelta(minutes=10)  # samples read into memory at once while thinning (whole minutes)
DELETE_BATCH = 500  # samples deleted per transaction


class _Round:
    def __init__(self, ctx: Context, stream_ids: list[str]) -> None:
        self.ctx = ctx
        self.live = set(stream_ids)
        self.counts: dict[str, int] = {}
        self.sampled = self.gone = self.failed = self.skipped = 0
        self.read = 0  # counts FastPix gave (one for a stream that ended meanwhile is not kept as a sample)
        self.last_error = ""

    def handle(self, stream_id: str, _started_at: datetime, result: ViewerCount | FastPixError) -> None:
        if isinstance(result, ViewerCount):
            self.counts[stream_id] = result.views
            self.read += 1
        elif isinstance(result, NotFound):
            self.gone += 1  # deleted meanwhile: the refresher or the reconciler forgets it
        else:
            self.failed += 1
            self.last_error = str(result)
            if isinstance(result, RateLimited):
                self.ctx.pacer.hold(result.retry_after if result.retry_after is not None else 1.0)

    def flush(self) -> None:
        """Write the counts gathered since the last flush, and learn which streams are still live."""
        if self.counts:
            counts, self.counts = self.counts, {}
            self.sampled += mirror.record_viewers(counts, timezone.now())
        self.live = set(mirror.live_streams())

    def skip(self, stream_id: str) -> bool:
        """A stream that ended since the round began is not asked (and would get no sample anyway)."""
        if stream_id in self.live:
            return False
        self.skipped += 1
        return True


def sample(ctx: Context, period: float) -> dict[str, Any]:
    """One round: a viewer count for every live stream of the mirror, spread over `period` seconds."""
    stream_ids = mirror.live_streams()
    count = len(stream_ids)
    rate = ctx.pacer.rate
    spacing = period / count if count else 0.0
    detail: dict[str, Any] = {"live": count}
    if count > rate * period:
        spacing = 1.0 / rate
        detail["note"] = (
            f"{count} live streams need {count / period:.0f} calls/s, over the limit of {rate:g}/s: "
            f"a round takes {count / rate:.1f} s instead of {period:g} s"
        )
    round_ = _Round(ctx, stream_ids)
    try:
        completed = ctx.fan_out(
            stream_ids,
            ctx.client.get_viewer_count,
            round_.handle,
            offsets=[index * spacing for index in range(count)],
            skip=round_.skip,
            flush=round_.flush,
            # Twice a period: each write bumps the workspace version, and every open page's next poll then
            # renders again. Writing every half second made every poll a render (bench/memory.py, fan-out).
            flush_every=period / 2,
        )
    except Interrupted:
        if not ctx.lost_lease:
            round_.flush()  # shutting down: the counts already read are true, keep them
        raise
    calls = round_.read + round_.gone + round_.failed
    detail.update(sampled=round_.sampled, ended=round_.skipped, gone=round_.gone)
    if round_.failed:
        detail["errors"] = round_.failed
    if not completed or round_.failed * 2 > calls:
        gave_up = "" if completed else ", so the round stopped there"
        raise JobFailed(
            f"{round_.failed} of {calls} viewer-count calls failed{gave_up}: {round_.last_error}", detail
        )
    return detail


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def thin(ctx: Context) -> dict[str, Any]:
    """Samples older than SAMPLE_KEEP_DAYS become one per stream per minute (the minute's highest).
    Idempotent; each run starts where the last successful one stopped, in spans of whole minutes, and
    deletes in small transactions so the sampler's writes never wait long."""
    cutoff = _minute(timezone.now() - timedelta(days=settings.SAMPLE_KEEP_DAYS))
    previous = WorkerRun.objects.filter(job="thin").values_list("detail", flat=True).first() or {}
    since = previous.get("thinned_until") if isinstance(previous, dict) else None
    samples = ViewerSample.objects.filter(at__lt=cutoff)
    if since:
        samples = samples.filter(at__gte=datetime.fromisoformat(since))
    first = samples.order_by("at").values_list("at", flat=True).first()
    deleted = spans = 0
    start = _minute(first) if first is not None else cutoff
    while start < cutoff:
        ctx.check()
        end = min(start + THIN_SPAN, cutoff)
        # Each minute keeps its highest sample (the earliest of equals), so a recording's peak survives.
        kept: dict[tuple[str, datetime], tuple[int, int]] = {}  # (stream, minute) -> (sample id, views)
        doomed: list[int] = []
        rows = ViewerSample.objects.filter(at__gte=start, at__lt=end).order_by("stream_id", "at", "id")
        for sample_id, stream_id, at, views in rows.values_list("id", "stream_id", "at", "views").iterator():
            key = (stream_id, _minute(at))
            best = kept.get(key)
            if best is None or views > best[1]:
                if best is not None:
                    doomed.append(best[0])
                kept[key] = (sample_id, views)
            else:
                doomed.append(sample_id)
        for offset in range(0, len(doomed), DELETE_BATCH):
            with transaction.atomic():
                deleted += ViewerSample.objects.filter(
                    id__in=doomed[offset : offset + DELETE_BATCH]
                ).delete()[0]
        spans += 1
        # Jump over hours or days without samples instead of reading them ten minutes at a time.
        later = (
            ViewerSample.objects.filter(at__gte=end, at__lt=cutoff)
            .order_by("at")
            .values_list("at", flat=True)
        )
        following = later.first()
        start = _minute(following) if following is not None else cutoff
    return {"deleted": deleted, "spans": spans, "thinned_until": cutoff.isoformat()}
