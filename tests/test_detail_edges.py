"""The detail page's memory at its edges: samples missing while the worker was down, and broadcasts old
enough that their samples were thinned to one a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from streams.models import MirroredStream, ViewerSample
from streams.workspace import history, sampler
from streams.workspace.history import Point
from streams.workspace.pacing import Context

pytestmark = pytest.mark.django_db

STREAM_ID = "e" * 32


def test_the_chart_does_not_draw_a_steady_audience_across_a_gap_in_the_samples() -> None:
    start = timezone.now() - timedelta(minutes=30)
    before = [Point(start + timedelta(seconds=5 * i), 100) for i in range(4)]
    # The worker was down for ten minutes: no samples, then the audience had dropped.
    after = [Point(start + timedelta(minutes=10, seconds=5 * i), 20) for i in range(4)]
    chart = history.chart(before + after)
    assert chart is not None
    assert len(chart.segments) == 2  # two lines, nothing drawn where nothing was sampled
    assert [len(s.line.split(" ")) for s in chart.segments] == [4, 4]
    assert chart.points == 8
    html = render_to_string(
        "streams/_audience.html",
        {"audience": history.summarise(before + after, live=False), "status": "idle"},
    )
    assert html.count('class="chart-line"') == 2


def test_a_downsampled_broadcast_breaks_its_line_only_where_samples_are_missing() -> None:
    start = timezone.now() - timedelta(hours=8)
    points = [Point(start + timedelta(seconds=5 * i), (i * 7919) % 1000) for i in range(5760)]
    assert len(history.chart(points).segments) == 1  # type: ignore[union-attr]
    gap = [*points[:3000], *(Point(p.at + timedelta(minutes=15), p.views) for p in points[3000:])]
    assert len(history.chart(gap).segments) == 2  # type: ignore[union-attr]


def test_a_thinned_broadcast_is_still_one_broadcast(settings: Any) -> None:
    settings.SAMPLE_KEEP_DAYS = 30
    start = (timezone.now() - timedelta(days=40)).replace(hour=12, minute=0, second=0, microsecond=0)
    # Twenty minutes sampled about every 5 s (the sampler stamps a batch when it writes it: jitter).
    ats = [start + timedelta(seconds=5 * i + (i % 5) * 0.9) for i in range(240)]
    ViewerSample.objects.bulk_create(
        ViewerSample(stream_id=STREAM_ID, at=at, views=50 + i % 7) for i, at in enumerate(ats)
    )
    sampler.thin(Context.standalone())
    assert ViewerSample.objects.filter(stream_id=STREAM_ID).count() == 20  # one a minute
    row = MirroredStream.objects.create(
        stream_id=STREAM_ID,
        name="Keynote",
        status="idle",
        created_at=start,
        observed_at=start,
        synced_at=start,
    )
    seen = history.audience(row)
    assert seen.samples == 20
    assert start <= seen.since < start + timedelta(minutes=1)  # its first minute's highest sample
    assert seen.chart is not None
    assert len(seen.chart.segments) == 1
