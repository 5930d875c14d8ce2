"""Keeping the mirror true without webhooks: the reconciler's walk of FastPix's whole list, and the
refresher's quick re-read of the streams whose status moves.

Every observation carries the moment its read began, so `mirror.observe` lets a newer webhook win over a
slower read. Absence from a page is not proof that a stream is gone (FastPix pages by offset, and a stream
created or deleted mid-walk shifts every row after it), so a stream the walk did not see is read once by id
before it is forgotten; a walk that fails part-way forgets nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from streams.client import (
    FastPixError,
    LiveStream,
    NotFound,
    Order,
    Page,
    RateLimited,
    ServerError,
    Unavailable,
)
from streams.models import MirroredStream
from streams.workspace import mirror
from streams.workspace.pacing import Context, JobFailed

logger = logging.getLogger("streams.workspace.reconcile")

PAGE_LIMIT = 50  # the most GET /live/streams returns per page (contract §1.8)
REFRESH_PAGE_LIMIT = 50  # the newest page the refresher reads: new streams show up within a period
RECENTLY_LIVE = timedelta(minutes=10)  # the refresher keeps re-reading a stream this long after it was live
RATE_LIMITED_TRIES = 10  # 429s in a row on one page before the walk gives up (and is tried again later)
TRANSIENT_TRIES = 3  # attempts at a page when FastPix cannot be reached or answers 5xx


def read_page(ctx: Context, page: int, *, order: Order, limit: int) -> tuple[datetime, Page[LiveStream]]:
    """One list page and the moment its read began. A 429 pauses every call of the worker (Retry-After,
    else doubling) and reads the same page again; a connection error or a 5xx is tried twice more.
    Interrupted when the lease was lost while the page was in flight: a standby may be working already,
    so the page is not this worker's to write."""
    rate_limited = transient = 0
    while True:
        ctx.wait_for_slot()
        read_at = timezone.now()
        try:
            result = ctx.client.list_streams(page=page, limit=limit, order=order)
            ctx.check()
            return read_at, result
        except RateLimited as exc:
            rate_limited += 1
            if rate_limited >= RATE_LIMITED_TRIES:
                raise
            wait = exc.retry_after if exc.retry_after is not None else min(2.0**rate_limited, 30.0)
            logger.info("list page %d: rate limited, reading it again in %.1f s", page, wait)
            ctx.pacer.hold(wait)
        except (Unavailable, ServerError):
            transient += 1
            if transient >= TRANSIENT_TRIES:
                raise
            ctx.sleep(0.5 * 2**transient)


class _Reread:
    """GET each stream by id, concurrently and paced: found ⇒ observe, 404 ⇒ forget. A stream FastPix
    answered 429 for is read again once the pause it asked for is over."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.observed = self.changed = self.forgotten = self.failed = 0
        self.last_error = ""
        self.rate_limited: list[str] = []
        self.retrying = False

    def run(self, stream_ids: Iterable[str], offsets: list[float] | None = None) -> bool:
        """False when it gave up because the reads mostly failed."""
        ids = list(stream_ids)
        for attempt in range(1, RATE_LIMITED_TRIES + 1):
            self.rate_limited = []
            self.retrying = attempt < RATE_LIMITED_TRIES  # the last time, a 429 is a failure
            if not self.ctx.fan_out(ids, self.ctx.client.get_stream, self.handle, offsets=offsets):
                return False
            if not self.rate_limited:
                break
            ids, offsets = self.rate_limited, None  # paced, after the pause the 429 asked for
        return True

    def handle(self, stream_id: str, read_at: datetime, result: LiveStream | FastPixError) -> None:
        if isinstance(result, NotFound):
            self.forgotten += mirror.forget(stream_id, read_at).changed
        elif isinstance(result, RateLimited) and self.retrying:
            self.ctx.pacer.hold(result.retry_after if result.retry_after is not None else 1.0)
            self.rate_limited.append(stream_id)
        elif isinstance(result, FastPixError):
            self.failed += 1
            self.last_error = str(result)
            if isinstance(result, RateLimited):
                self.ctx.pacer.hold(result.retry_after if result.retry_after is not None else 1.0)
        else:
            self.observed += 1
            self.changed += mirror.observe(result, read_at).changed


def reconcile(ctx: Context) -> dict[str, Any]:
    """Walk every page of FastPix's list into the mirror, then settle the rows the walk did not see."""
    walk_began = timezone.now()
    seen: set[str] = set()
    changed = pages = 0
    page_number = 1
    detail: dict[str, Any] = {}
    try:
        while True:
            ctx.check()
            # Oldest first: a stream created mid-walk lands on the last page instead of pushing every row
            # down by one (deletions still shift rows up: the reads by id below catch those).
            read_at, page = read_page(ctx, page_number, order="asc", limit=PAGE_LIMIT)
            pages += 1
            for stream in page.items:
                seen.add(stream.stream_id)
                changed += mirror.observe(stream, read_at).changed
            if not page.items or page_number >= page.page_count:
                break
            page_number += 1
    except FastPixError as exc:
        detail.update(pages=pages, streams=len(seen), changed=changed, complete=False)
        raise JobFailed(f"the walk stopped at page {page_number}: {exc}", detail) from exc

    # Rows the walk did not confirm: not deleted, and last observed before it began.
    unseen = [
        stream_id
        for stream_id in MirroredStream.objects.filter(deleted_at=None, observed_at__lt=walk_began)
        .values_list("stream_id", flat=True)
        .iterator()
        if stream_id not in seen
    ]
    reread = _Reread(ctx)
    completed = reread.run(unseen)
    detail.update(
        pages=pages,
        streams=len(seen),
        changed=changed + reread.changed,
        checked=len(unseen),
        forgotten=reread.forgotten,
        complete=True,
    )
    if reread.failed or not completed:
        detail["check_errors"] = reread.failed
        raise JobFailed(
            f"{reread.failed} of {len(unseen)} streams missing from the list could not be read: "
            f"{reread.last_error}",
            detail,
        )
    return detail


def refresh(ctx: Context) -> dict[str, Any]:
    """Statuses within one period of FastPix when webhooks do not arrive: the newest list page, then every
    stream that is preparing or live, was live lately, or whose encoder left."""
    read_at, page = read_page(ctx, 1, order="desc", limit=REFRESH_PAGE_LIMIT)
    changed = 0
    seen: set[str] = set()
    for stream in page.items:
        seen.add(stream.stream_id)
        changed += mirror.observe(stream, read_at).changed
    moving = (
        Q(status__in=("preparing", "active"))
        | Q(last_live_at__gte=timezone.now() - RECENTLY_LIVE)
        | Q(disconnected_at__isnull=False)
    )
    wanted = [
        stream_id
        for stream_id in MirroredStream.objects.filter(moving, deleted_at=None).values_list(
            "stream_id", flat=True
        )
        if stream_id not in seen
    ]
    # Spread over the period, within what the sampler leaves of the rate limit: the sampler's one call per
    # live stream per period comes first (with 500 live streams and 150 calls/s, the sampler needs 100/s;
    # re-reading all 500 as fast as the limit allows made its rounds a third longer).
    period = float(settings.VIEWER_COUNT_TTL)
    sampling = MirroredStream.objects.filter(status="active", deleted_at=None).count() / period
    spare = max(ctx.pacer.rate - sampling, ctx.pacer.rate / 10)
    span = max(period, len(wanted) / spare)
    reread = _Reread(ctx)
    completed = reread.run(wanted, offsets=[index * span / len(wanted) for index in range(len(wanted))])
    detail: dict[str, Any] = {
        "newest": len(page.items),
        "reread": len(wanted),
        "changed": changed + reread.changed,
        "forgotten": reread.forgotten,
    }
    if span > period:
        detail["note"] = (
            f"re-reading {len(wanted)} streams within what the sampler leaves of the limit takes {span:.1f} s"
        )
    if reread.failed:
        detail["errors"] = reread.failed
        if not completed or reread.failed * 2 > len(wanted):
            raise JobFailed(f"{reread.failed} of {len(wanted)} re-reads failed: {reread.last_error}", detail)
    return detail
