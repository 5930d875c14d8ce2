"""A stream's past, from the console's memory: its audience (viewer samples → a summary and an SVG chart),
its recordings' peaks, and its run-of-show (received events, console actions and the audience's peak on
one timeline). Database reads only: nothing here calls FastPix.

Definitions, kept simple on purpose:
- A *broadcast's samples*: while the stream is live, the samples since the mirror's `live_since`. When it
  is not, the last broadcast's: the newest run of samples with no gap longer than `BROADCAST_GAP` (the
  sampler writes one every VIEWER_COUNT_TTL while a stream is live, and none while it is not, so a gap is
  the time between two broadcasts). Samples older than SAMPLE_KEEP_DAYS are thinned to one a minute, so
  between those a gap may be a minute longer before it separates two broadcasts.
- The chart's line stops where no sample was taken for longer than that gap (the worker was down): it
  does not draw a steady audience nobody measured.
- A *recording's peak*: the highest sample of its stream taken between the recording's creation minus its
  duration and its creation, widened by one sampling period on each side (the sampler's granularity).
  FastPix creates the recording when the broadcast ends, so that span is the broadcast. (After a
  disconnect that outlasted the reconnect window, FastPix creates it when the window runs out: the span
  then ends with the window and misses as much of the broadcast's start, which rarely holds the peak.)
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from streams.client import Media
from streams.models import AuditEntry, MirroredStream, ReceivedEvent, ViewerSample

# More than this without a sample separates two broadcasts of a stream.
BROADCAST_GAP_FLOOR = timedelta(seconds=60)
# How far back a stream that is not live is searched for its last broadcast (FastPix ends a broadcast at
# maxDuration, 8 h by default).
LAST_BROADCAST_LOOKBACK = timedelta(hours=24)
# The chart draws at most this many points; longer broadcasts keep each bucket's lowest and highest.
MAX_POINTS = 300
# Samples older than SAMPLE_KEEP_DAYS are one a minute: neighbours may be this much farther apart.
THINNED_SLACK = timedelta(minutes=1)
TIMELINE_SIZE = 60


def broadcast_gap() -> timedelta:
    return max(BROADCAST_GAP_FLOOR, timedelta(seconds=6 * float(settings.VIEWER_COUNT_TTL)))


def sampling_period() -> timedelta:
    return timedelta(seconds=float(settings.VIEWER_COUNT_TTL))


# ---------------------------------------------------------------- samples


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    views: int


def thinned_before() -> datetime:
    """Samples older than this may have been thinned to one of each minute (sampler.thin)."""
    return timezone.now() - timedelta(days=settings.SAMPLE_KEEP_DAYS)


def too_far(earlier: Point, later: Point, gap: timedelta, thinned: datetime) -> bool:
    """Whether two neighbouring samples are farther apart than `gap`: no sample was taken between them.
    Thinning keeps one sample of each minute (its highest), which leaves neighbours up to a minute farther
    apart than the sampler wrote them (two minutes at most): that is no gap in the broadcast."""
    allowed = gap + THINNED_SLACK if earlier.at < thinned else gap
    return later.at - earlier.at > allowed


def _points(stream_id: str, since: datetime, until: datetime | None = None) -> list[Point]:
    samples = ViewerSample.objects.filter(stream_id=stream_id, at__gte=since)
    if until is not None:
        samples = samples.filter(at__lte=until)
    return [Point(at, views) for at, views in samples.order_by("at", "id").values_list("at", "views")]


def last_run(points: Sequence[Point], gap: timedelta) -> list[Point]:
    """The newest run of points with no gap longer than `gap` between two neighbours (see `too_far`)."""
    thinned = thinned_before()
    start = len(points) - 1
    while start > 0 and not too_far(points[start - 1], points[start], gap, thinned):
        start -= 1
    return list(points[max(start, 0) :])


def broadcast_points(row: MirroredStream | None) -> tuple[list[Point], bool]:
    """The samples of the current broadcast (live: True), else of the last one (False)."""
    if row is None:
        return [], False
    if row.status == "active" and row.live_since is not None and row.deleted_at is None:
        return _points(row.stream_id, row.live_since), True
    newest = (
        ViewerSample.objects.filter(stream_id=row.stream_id)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if newest is None:
        return [], False
    return last_run(_points(row.stream_id, newest - LAST_BROADCAST_LOOKBACK), broadcast_gap()), False


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most `limit` points in time order: each of limit/2 buckets keeps its lowest and highest point,
    so every peak (and the highest of all) is still drawn."""
    if len(points) <= limit:
        return list(points)
    buckets = max(limit // 2, 1)
    size = len(points) / buckets
    kept: list[Point] = []
    for index in range(buckets):
        bucket = points[round(index * size) : round((index + 1) * size)]
        if not bucket:
            continue
        low = min(bucket, key=lambda p: p.views)
        high = max(bucket, key=lambda p: p.views)
        kept.extend(sorted({low, high}, key=lambda p: p.at))
    return kept


# ---------------------------------------------------------------- the chart


@dataclass(frozen=True, slots=True)
class Tick:
    position: float  # x or y in the chart's viewBox
    label: str


# The chart's viewBox and the plot inside it (room on the left for counts, below for times).
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 52, 628, 30, 186


@dataclass(frozen=True, slots=True)
class Segment:
    """One unbroken stretch of the line: the samples between two gaps (the worker was down meanwhile)."""

    line: str  # "x,y x,y …" for <polyline points>
    area: str  # the same, closed along the time axis, for <polygon points>


@dataclass(frozen=True)
class Chart:
    """An SVG line chart's geometry in a fixed viewBox; the template draws it (static/css/app.css colours it).
    Where no sample was taken for longer than the broadcast gap the line stops: nothing is drawn there."""

    segments: tuple[Segment, ...]
    last_x: float
    last_y: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    points: int  # how many were drawn
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    top: int = TOP
    bottom: int = BOTTOM
    label_y: int = BOTTOM + 20  # the time axis's labels


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at least `value` (at least 1): the y axis's top."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def _time_label(moment: datetime, seconds: bool) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def chart(points: Sequence[Point]) -> Chart | None:
    if not points:
        return None
    drawn = downsample(points)
    start, end = drawn[0].at, drawn[-1].at
    span = max((end - start).total_seconds(), 1.0)
    top_value = nice_ceiling(max(p.views for p in drawn))

    def x(moment: datetime) -> float:
        return round(LEFT + (RIGHT - LEFT) * (moment - start).total_seconds() / span, 1)

    def y(views: float) -> float:
        return round(BOTTOM - (BOTTOM - TOP) * views / top_value, 1)

    # The gaps are found among all the samples: downsampling leaves drawn neighbours farther apart.
    gap, thinned = broadcast_gap(), thinned_before()
    gap_starts = [a.at for a, b in pairwise(points) if too_far(a, b, gap, thinned)]
    runs: list[list[tuple[float, float]]] = []
    for previous, point in zip([None, *drawn], drawn, strict=False):
        # A gap starts at a sample from `previous` on and before `point`: the line breaks there.
        if previous is None or bisect_left(gap_starts, previous.at) < bisect_left(gap_starts, point.at):
            runs.append([])
        runs[-1].append((x(point.at), y(point.views)))
    segments = []
    for run in runs:
        line = " ".join(f"{cx},{cy}" for cx, cy in run)
        segments.append(Segment(line, f"{run[0][0]},{BOTTOM} {line} {run[-1][0]},{BOTTOM}"))
    coordinates = runs[-1]
    with_seconds = span < 600
    middle = start + (end - start) / 2
    x_ticks = [Tick(x(start), _time_label(start, with_seconds))]
    if end > start:
        x_ticks += [
            Tick(x(middle), _time_label(middle, with_seconds)),
            Tick(x(end), _time_label(end, with_seconds)),
        ]
    y_values = sorted({0, top_value // 2, top_value}) if top_value > 1 else [0, 1]
    return Chart(
        segments=tuple(segments),
        last_x=coordinates[-1][0],
        last_y=coordinates[-1][1],
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(Tick(y(value), str(value)) for value in y_values),
        points=len(drawn),
    )


# ---------------------------------------------------------------- the summary


@dataclass(frozen=True)
class Audience:
    """What the detail page says and draws about one broadcast's audience."""

    live: bool  # the current broadcast (else the last one)
    since: datetime | None  # the broadcast's start as the console saw it
    until: datetime | None  # the newest sample
    current: int | None  # the newest sample, while live
    peak: int | None
    peak_at: datetime | None
    average: int | None  # the mean of the samples, rounded
    samples: int
    chart: Chart | None

    @property
    def empty(self) -> bool:
        return self.samples == 0


def summarise(points: Sequence[Point], *, live: bool, since: datetime | None = None) -> Audience:
    if not points:
        return Audience(live, since, None, None, None, None, None, 0, None)
    # The first of equal highs: "peak at" is when the audience first reached it.
    peak = max(points, key=lambda p: (p.views, -p.at.timestamp()))
    return Audience(
        live=live,
        since=since or points[0].at,
        until=points[-1].at,
        current=points[-1].views if live else None,
        peak=peak.views,
        peak_at=peak.at,
        average=round(sum(p.views for p in points) / len(points)),
        samples=len(points),
        chart=chart(points),
    )


def audience(row: MirroredStream | None) -> Audience:
    """The current broadcast's audience (or the last broadcast's) of a mirrored stream."""
    points, live = broadcast_points(row)
    return summarise(points, live=live, since=row.live_since if live and row is not None else None)


# ---------------------------------------------------------------- recordings


@dataclass(frozen=True, slots=True)
class Peak:
    views: int
    at: datetime


def recording_peak(media: Media) -> Peak | None:
    """The highest viewer sample of the broadcast this recording holds (see the module's definition)."""
    seconds = media.duration_seconds
    if not media.stream_id or media.created_at is None or seconds is None:
        return None
    period = sampling_period()
    best = (
        ViewerSample.objects.filter(
            stream_id=media.stream_id,
            at__gte=media.created_at - timedelta(seconds=seconds) - period,
            at__lte=media.created_at + period,
        )
        .order_by("-views", "at")
        .values_list("views", "at")
        .first()
    )
    return Peak(*best) if best is not None else None


# ---------------------------------------------------------------- the run-of-show

LIVE = "video.live_stream."
EVENT_WORDS = {
    f"{LIVE}created": "Created",
    f"{LIVE}updated": "Settings or metadata updated",
    f"{LIVE}preparing": "Preparing",
    f"{LIVE}connected": "Encoder connected",
    f"{LIVE}active": "Live",
    f"{LIVE}disconnected": "Disconnected",
    f"{LIVE}idle": "Ended (idle)",
    f"{LIVE}recording": "Recording started",
    f"{LIVE}disabled": "Disabled",
    f"{LIVE}enabled": "Enabled",
    f"{LIVE}deleted": "Deleted",
    f"{LIVE}simulcast_target.created": "Simulcast target added",
    f"{LIVE}simulcast_target.starting": "Simulcast target starting",
    f"{LIVE}simulcast_target.broadcasting": "Simulcast target broadcasting",
    f"{LIVE}simulcast_target.updated": "Simulcast target updated",
    f"{LIVE}simulcast_target.deleted": "Simulcast target removed",
    "video.media.created": "Recording created",
    "video.media.ready": "Recording ready",
    "video.media.failed": "Recording failed",
    "video.media.updated": "Recording updated",
    "video.media.deleted": "Recording deleted",
}
RECONNECTED = "Reconnected within the window"
# After one of these the broadcast is over: a later connection starts a new one, not a reconnection.
ENDING = {f"{LIVE}idle", f"{LIVE}disabled", f"{LIVE}deleted"}

Kind = Literal["event", "action", "audience"]


@dataclass(frozen=True)
class Moment:
    """One line of the run-of-show."""

    at: datetime
    kind: Kind
    title: str
    detail: str = ""
    who: str = ""  # console actions: the user
    outcome: str = ""  # console actions: AuditEntry.Outcome
    outcome_label: str = ""
    order: int = 0  # ties at one instant keep the order things happened in


def event_word(event_type: str) -> str:
    known = EVENT_WORDS.get(event_type)
    if known is not None:
        return known
    tail = event_type.rsplit(".", 1)[-1].replace("_", " ")
    return tail[:1].upper() + tail[1:] if tail else "Event"


def _event_moments(events: Sequence[ReceivedEvent]) -> list[Moment]:
    """Events in the order they happened, in words; a connection after a disconnection, while the
    broadcast lasted, is a reconnection within the window."""
    moments: list[Moment] = []
    disconnected = resumed = False
    for event in events:
        title = event_word(event.event_type)
        detail = ""
        if event.event_type == f"{LIVE}active" and resumed:
            title = "Live again"  # FastPix says "active" once more right after the encoder returned
        resumed = False
        if event.event_type == f"{LIVE}disconnected":
            disconnected = True
            window = ((event.payload or {}).get("data") or {}).get("reconnectWindow")
            detail = (
                f"The encoder left; the stream waits {window} s for it to return."
                if isinstance(window, int)
                else "The encoder left; the stream waits for it to return."
            )
        elif event.event_type in {f"{LIVE}connected", f"{LIVE}active"} and disconnected:
            disconnected = False
            resumed = event.event_type == f"{LIVE}connected"
            title = RECONNECTED
        elif event.event_type in ENDING:
            disconnected = False
        if event.event_type == f"{LIVE}updated" and event.changes:
            detail = "Changed: " + ", ".join(name.replace("_", " ") for name in event.changes) + "."
        moments.append(Moment(event.occurred_at or event.received_at, "event", title, detail, order=event.pk))
    return moments


def _events(stream_id: str) -> list[ReceivedEvent]:
    verdicts = (ReceivedEvent.Verdict.APPLIED, ReceivedEvent.Verdict.UNCHANGED)
    newest = list(
        ReceivedEvent.objects.filter(stream_id=stream_id, verdict__in=verdicts)
        # An "updated" that changed nothing says nothing a producer needs.
        .exclude(Q(event_type=f"{LIVE}updated") & Q(verdict=ReceivedEvent.Verdict.UNCHANGED))
        .order_by("-occurred_at", "-received_at", "-id")[:TIMELINE_SIZE]
    )
    return sorted(newest, key=lambda e: (e.occurred_at or e.received_at, e.pk))


def _action_moments(stream_id: str) -> list[Moment]:
    entries = AuditEntry.objects.filter(stream_id=stream_id).order_by("-created_at", "-id")[:TIMELINE_SIZE]
    return [
        Moment(
            entry.created_at,
            "action",
            entry.get_action_display(),
            entry.message,
            who=entry.username or "someone",
            outcome=entry.outcome,
            outcome_label=entry.get_outcome_display(),
            order=entry.pk,
        )
        for entry in entries
    ]


def _audience_moments(seen: Audience) -> list[Moment]:
    if seen.peak is None or seen.peak_at is None:
        return []
    word = "so far" if seen.live else "of the broadcast"
    return [
        Moment(
            seen.peak_at,
            "audience",
            f"Peak audience {word}: {seen.peak} viewer{'' if seen.peak == 1 else 's'}",
        )
    ]


_KIND_ORDER = {"event": 0, "action": 1, "audience": 2}


def timeline(stream_id: str, seen: Audience | None = None) -> list[Moment]:
    """The run-of-show, oldest first: the newest TIMELINE_SIZE moments of events, actions and audience."""
    moments = _event_moments(_events(stream_id)) + _action_moments(stream_id)
    if seen is not None:
        moments += _audience_moments(seen)
    moments.sort(key=lambda m: (m.at, _KIND_ORDER[m.kind], m.order))
    return moments[-TIMELINE_SIZE:]
