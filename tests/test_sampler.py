"""The sampler: one viewer-count call per live stream per period, spread over the period, within the rate
limit, written in batches; and the thinning of old samples. Real HTTP to the emulator."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from streams.client import FastPixClient, ViewerCount, get_client
from streams.models import MirroredStream, ViewerSample, WorkerRun
from streams.workspace import mirror, reconcile, sampler
from streams.workspace.pacing import Context, JobFailed
from streams.workspace.worker import JOBS, pause_after, run_job

pytestmark = pytest.mark.django_db

COUNT_PATH = r"/viewer-count$"


def job(name: str) -> Any:
    return next(job for job in JOBS if job.name == name)


def live(emulator: Any, count: int, **fields: Any) -> list[str]:
    return [
        str(emulator.create_stream(status="active", views=10 + n, **fields)["streamId"]) for n in range(count)
    ]


def mirrored(emulator: Any) -> None:
    reconcile.reconcile(Context.standalone())
    emulator.clear_requests()


def count_calls(emulator: Any) -> Counter[str]:
    return Counter(r["path"].split("/")[4] for r in emulator.requests(path_regex=COUNT_PATH, method="GET"))


def call_times(emulator: Any) -> list[datetime]:
    return sorted(datetime.fromisoformat(r["time"]) for r in emulator.requests(path_regex=COUNT_PATH))


def test_one_viewer_count_call_per_live_stream_per_period_and_a_sample_each(emulator: Any) -> None:
    active = live(emulator, 5)
    idle = emulator.create_stream(status="idle")["streamId"]
    preparing = emulator.create_stream(status="preparing")["streamId"]
    mirrored(emulator)

    detail = sampler.sample(Context.standalone(), period=1.0)

    assert count_calls(emulator) == Counter(active)  # exactly one each; none for idle or preparing
    assert idle not in count_calls(emulator)
    assert preparing not in count_calls(emulator)
    assert sorted(ViewerSample.objects.values_list("views", flat=True)) == [10, 11, 12, 13, 14]
    assert MirroredStream.objects.get(stream_id=active[3]).viewers == 13
    assert (detail["live"], detail["sampled"]) == (5, 5)


def test_calls_are_spread_evenly_over_the_period_and_written_in_batches(emulator: Any) -> None:
    live(emulator, 8)
    mirrored(emulator)

    sampler.sample(Context.standalone(), period=2.0)

    times = call_times(emulator)
    assert len(times) == 8
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(times)]
    assert min(gaps) >= 0.1  # 2 s / 8 calls = 0.25 s apart (a busy machine may start one a little late)
    assert (times[-1] - times[0]).total_seconds() >= 1.6
    batches = ViewerSample.objects.values("at").distinct().count()
    assert 2 <= batches <= 3  # twice a period (and what is left at the end), not one per call


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_went_idle_mid_round_gets_no_call_and_no_sample(emulator: Any) -> None:
    streams = live(emulator, 2)
    mirrored(emulator)
    called: list[str] = []

    class EndsTheOtherStream:
        """After the round's first count, the other stream ends, and its webhook lands in the mirror."""

        def __init__(self, client: FastPixClient) -> None:
            self._client = client

        def get_viewer_count(self, stream_id: str) -> ViewerCount:
            count = self._client.get_viewer_count(stream_id)
            if not called:
                called.append(stream_id)
                other = next(s for s in streams if s != stream_id)
                get_client().finish_stream(other)
                mirror.observe(get_client().get_stream(other), timezone.now(), from_event=True)
                connection.close()  # this pool thread's own connection
            return count

        def __getattr__(self, name: str) -> Any:
            return getattr(self._client, name)

    ctx = Context.standalone()
    ctx.client = EndsTheOtherStream(ctx.client)  # type: ignore[assignment]
    detail = sampler.sample(ctx, period=2.0)

    first = called[0]
    ended = next(s for s in streams if s != first)
    assert count_calls(emulator) == Counter([first])
    assert list(ViewerSample.objects.values_list("stream_id", flat=True)) == [first]
    assert MirroredStream.objects.get(stream_id=ended).viewers is None
    assert (detail["sampled"], detail["ended"]) == (1, 1)


def test_more_live_streams_than_the_rate_limit_allows_make_a_longer_round_not_faster_calls(
    emulator: Any, settings: Any
) -> None:
    settings.FASTPIX_RATE_LIMIT = 5
    live(emulator, 12)
    mirrored(emulator)

    detail = sampler.sample(Context.standalone(), period=1.0)

    times = call_times(emulator)
    assert len(times) == 12
    for index, start in enumerate(times):  # never more than 5 calls in a second (0.9 s: room for jitter)
        assert sum(1 for moment in times[index:] if moment - start < timedelta(seconds=0.9)) <= 5
    assert (times[-1] - times[0]).total_seconds() >= 2.0
    assert "over the limit of 5/s" in detail["note"]
    assert detail["sampled"] == 12


def test_a_failed_call_skips_that_stream_for_this_round_only(emulator: Any) -> None:
    healthy, failing = live(emulator, 2)
    mirrored(emulator)
    emulator.add_fault(rf"/{failing}/viewer-count$", status=503, times=1)

    first = sampler.sample(Context.standalone(), period=0.5)
    assert (first["sampled"], first["errors"]) == (1, 1)
    assert list(ViewerSample.objects.values_list("stream_id", flat=True)) == [healthy]

    sampler.sample(Context.standalone(), period=0.5)
    assert ViewerSample.objects.filter(stream_id=failing).count() == 1
    assert count_calls(emulator) == Counter({healthy: 2, failing: 2})  # no retry within a round


def test_fastpix_down_fails_the_round_records_the_error_and_the_pause_doubles_up_to_a_minute(
    emulator: Any, settings: Any
) -> None:
    settings.VIEWER_COUNT_TTL = 0.5
    live(emulator, 3)
    mirrored(emulator)
    emulator.add_fault(COUNT_PATH, status=503, times=None)

    assert not run_job(job("sample"), Context.standalone())

    run = WorkerRun.objects.get(job="sample")
    assert run.error.startswith("3 of 3 viewer-count calls failed")
    assert run.ok_at is None
    assert (run.detail["errors"], run.detail["calls"]) == (3, 3)
    assert not ViewerSample.objects.exists()
    settings.VIEWER_COUNT_TTL = 5
    assert [pause_after(failures, 5) for failures in range(1, 6)] == [10, 20, 40, 60, 60]


def test_a_round_against_a_failing_fastpix_stops_early_instead_of_calling_every_stream(emulator: Any) -> None:
    live(emulator, 20)
    mirrored(emulator)
    emulator.add_fault(COUNT_PATH, status=503, times=None)

    with pytest.raises(JobFailed) as failed:
        sampler.sample(Context.standalone(), period=2.0)

    assert "so the round stopped there" in str(failed.value)
    assert 5 <= len(emulator.requests(path_regex=COUNT_PATH)) < 10  # not 20


def test_thinning_keeps_a_peak_in_the_middle_of_a_minute_and_the_earliest_of_equals(settings: Any) -> None:
    """An old recording's peak is read from its thinned samples: the minute's peak must be what stays."""
    settings.SAMPLE_KEEP_DAYS = 30
    old = (timezone.now() - timedelta(days=31)).replace(hour=12, minute=0, second=0, microsecond=0)
    stream = "c" * 32
    views = {0: 10, 5: 20, 10: 500, 15: 30, 20: 15, 60: 40, 65: 40, 70: 7}
    ViewerSample.objects.bulk_create(
        [ViewerSample(stream_id=stream, at=old + timedelta(seconds=n), views=v) for n, v in views.items()]
    )

    assert run_job(job("thin"), Context.standalone())

    kept = ViewerSample.objects.filter(stream_id=stream).order_by("at").values_list("at", "views")
    assert list(kept) == [(old + timedelta(seconds=10), 500), (old + timedelta(seconds=60), 40)]


def test_thinning_keeps_the_highest_sample_of_each_minute_once_samples_are_older_than_the_keep_days(
    settings: Any,
) -> None:
    settings.SAMPLE_KEEP_DAYS = 30
    old = (timezone.now() - timedelta(days=31)).replace(hour=12, minute=0, second=0, microsecond=0)
    recent = timezone.now() - timedelta(minutes=5)
    stream_a, stream_b = "a" * 32, "b" * 32
    seconds = [0, 5, 10, 60, 90, 119]  # minute 12:00 has 3, minute 12:01 has 3
    ViewerSample.objects.bulk_create(
        [
            ViewerSample(stream_id=s, at=old + timedelta(seconds=n), views=n)
            for s in (stream_a, stream_b)
            for n in seconds
        ]
        + [ViewerSample(stream_id=stream_a, at=recent + timedelta(seconds=n), views=n) for n in (0, 5, 10)]
    )

    assert run_job(job("thin"), Context.standalone())

    kept = (
        ViewerSample.objects.filter(at__lt=recent)
        .order_by("stream_id", "at")
        .values_list("stream_id", "views")
    )
    assert list(kept) == [(stream_a, 10), (stream_a, 119), (stream_b, 10), (stream_b, 119)]
    assert ViewerSample.objects.filter(at__gte=recent).count() == 3  # recent samples stay whole
    run = WorkerRun.objects.get(job="thin")
    assert run.detail["deleted"] == 8
    assert datetime.fromisoformat(run.detail["thinned_until"]) < timezone.now() - timedelta(days=30)

    again = sampler.thin(Context.standalone())
    assert again["deleted"] == 0
    assert ViewerSample.objects.count() == 7
