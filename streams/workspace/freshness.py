"""How fresh the console's memory is: what pages say about their data, and what /healthz reports.

The mirror is *synced* once the worker has walked FastPix's whole list at least once; before that, lists
fall back to FastPix's own paging. Live numbers are *current* while the sampler has run within a few
periods; otherwise pages ask FastPix themselves (streams/live.py) and say the live data is stale.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from streams.models import ReceivedEvent, WorkerRun

# The sampler is late by this many periods before pages stop trusting its numbers.
SAMPLER_GRACE_PERIODS = 3


@dataclass(frozen=True)
class Freshness:
    reconciled_at: datetime | None  # the last complete walk of FastPix's list
    sampled_at: datetime | None  # the sampler's last successful run
    refreshed_at: datetime | None  # the worker's last re-read of live streams

    @functools.cached_property
    def event_at(self) -> datetime | None:
        """The last webhook received (whatever became of it); asked only by those who show it."""
        return ReceivedEvent.objects.order_by("-received_at").values_list("received_at", flat=True).first()

    @property
    def synced(self) -> bool:
        return self.reconciled_at is not None

    @property
    def sampling(self) -> bool:
        if self.sampled_at is None:
            return False
        late = (timezone.now() - self.sampled_at).total_seconds()
        return late <= settings.VIEWER_COUNT_TTL * SAMPLER_GRACE_PERIODS + 1

    def ages(self) -> dict[str, float | None]:
        """Seconds since each, for /healthz (None: never)."""
        now = timezone.now()
        return {
            name: None if moment is None else round((now - moment).total_seconds(), 1)
            for name, moment in (
                ("last_event", self.event_at),
                ("last_reconcile", self.reconciled_at),
                ("last_sample", self.sampled_at),
                ("last_refresh", self.refreshed_at),
            )
        }


def freshness() -> Freshness:
    ok = dict(
        WorkerRun.objects.filter(job__in=("reconcile", "sample", "refresh")).values_list("job", "ok_at")
    )
    return Freshness(
        reconciled_at=ok.get("reconcile"), sampled_at=ok.get("sample"), refreshed_at=ok.get("refresh")
    )
