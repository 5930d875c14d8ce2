"""The control wall: every preparing and live stream as a tile, problems first, for a room's big screen
and a producer's phone. It reads the console's memory only (the mirror, the viewer samples and the
readiness lights): neither the page nor its 1 s poll ever calls FastPix.

Order: dropped streams (the encoder left while live; the soonest to be ended first), streams preparing
for too long, live streams whose playable check fails or is unknown, then the other live streams by
audience (most viewers first), then streams that only just started preparing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from streams import policy
from streams.models import MirroredStream, Readiness, ReceivedEvent, ViewerSample
from streams.templatetags.console import span
from streams.views.common import HtmxHttpRequest, requires
from streams.views.streams import _poll_delay, _role_flags
from streams.workspace.alerts import Drop, drop_of
from streams.workspace.freshness import moment_from_db, pulse
from streams.workspace.history import Point, downsample
from streams.workspace.readiness import as_of

# An encoder normally takes FastPix from preparing to live within seconds; still preparing after this,
# something is wrong on the encoder's side (wrong resolution, no keyframes, bad network) and a producer
# should look at it before the audience does.
PREPARING_TOO_LONG = timedelta(minutes=2)
# The sparkline: the last ten minutes of the broadcast, at most this many points (a tile is ~20 rem wide).
SPARK_WINDOW = timedelta(minutes=10)
SPARK_POINTS = 60
SPARK_WIDTH, SPARK_HEIGHT = 240, 48  # whole numbers in this box are fine enough, and short
SHOWN = ("preparing", "active")

DROPPED, PREPARING_LONG, NOT_PLAYABLE, LIVE, PREPARING = range(5)
PROBLEM_TEXT = {
    DROPPED: "Dropped: the encoder disconnected",
    PREPARING_LONG: "Preparing for too long",
    NOT_PLAYABLE: "Playable check failing",
}
Light = Readiness.Light


def short_span(seconds: float | None) -> str:
    """ "<1 min", "12 min", "1 h 5 min": how long, short enough for a tile (wall.js writes the same)."""
    return span(seconds, "<1 min")


def _ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds, what wall.js counts from (no time-zone or ISO parsing in the browser)."""
    return None if moment is None else round(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Spark:
    points: str  # "x,y x,y …" in a SPARK_WIDTH × SPARK_HEIGHT viewBox
    low: int
    high: int
    count: int
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


@dataclass(frozen=True)
class Tile:
    stream_id: str
    name: str
    status: str
    rank: int
    readiness: Readiness | None  # templates/streams/_lights.html draws the lights from it
    views: int | None
    spark: Spark | None
    live_since: datetime | None
    live_seconds: float | None
    preparing_since: datetime | None
    preparing_seconds: float | None
    drop: Drop | None  # the encoder left while live: FastPix ends the broadcast unless it returns in time
    can_finish: bool

    @property
    def live_for(self) -> str:
        return short_span(self.live_seconds)

    @property
    def preparing_for(self) -> str:
        return short_span(self.preparing_seconds)

    @property
    def live_since_ms(self) -> int | None:
        return _ms(self.live_since)

    @property
    def preparing_since_ms(self) -> int | None:
        return _ms(self.preparing_since)

    @property
    def problem(self) -> str:
        return PROBLEM_TEXT.get(self.rank, "")

    @property
    def problem_class(self) -> str:
        return {DROPPED: "dropped", PREPARING_LONG: "slow", NOT_PLAYABLE: "unplayable"}.get(self.rank, "")


# ---------------------------------------------------------------- reading the memory


def playable(readiness: Readiness | None) -> str:
    """The Playable light: unknown until the readiness job has judged the stream."""
    return readiness.playable if readiness is not None else Light.UNKNOWN


def _preparing_since(rows: Sequence[MirroredStream], readiness: dict[str, Readiness]) -> dict[str, datetime]:
    """Since when each preparing stream has been preparing: when its encoder light turned on, else its
    newest preparing or connected event. Unknown ones are left out (never called "too long")."""
    found: dict[str, datetime] = {}
    missing = []
    for row in rows:
        if row.status != "preparing":
            continue
        lights = readiness.get(row.stream_id)
        if lights is not None and lights.encoder == Light.ON and lights.encoder_changed_at is not None:
            found[row.stream_id] = lights.encoder_changed_at
        else:
            missing.append(row.stream_id)
    if missing:
        events = (
            ReceivedEvent.objects.filter(
                stream_id__in=missing,
                event_type__in=("video.live_stream.preparing", "video.live_stream.connected"),
                occurred_at__isnull=False,
            )
            .values("stream_id")
            .annotate(newest=Max("occurred_at"))
        )
        found.update({event["stream_id"]: event["newest"] for event in events})
    return found


def _samples(stream_ids: Sequence[str], since: datetime) -> dict[str, list[Point]]:
    """The samples since `since` of each stream, oldest first. Plain SQL: 24 live streams hold ~2,900
    samples in ten minutes, and the ORM's rows cost four times the query (bench/wall.py)."""
    by_stream: dict[str, list[Point]] = defaultdict(list)
    table = ViewerSample._meta.db_table
    marks = ", ".join(["%s"] * len(stream_ids))
    sql = (
        f"SELECT stream_id, at, views FROM {table} WHERE at >= %s AND stream_id IN ({marks}) ORDER BY at, id"  # noqa: S608 - the model's own table; values are parameters
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datetimefield_value(since), *stream_ids])
        for stream_id, at, views in cursor.fetchall():
            by_stream[stream_id].append(Point(moment_from_db(at) or since, views))
    return by_stream


def sparkline(points: Sequence[Point]) -> Spark | None:
    """The samples as a small line: time across, 0 to the highest count up, at most SPARK_POINTS points
    (the audience graph's own thinning: a spike is never smoothed away)."""
    if not points:
        return None
    samples = [(point.at, point.views) for point in downsample(points, SPARK_POINTS)]
    start, end = samples[0][0], samples[-1][0]
    span = (end - start).total_seconds()
    high = max(views for _, views in samples)
    top = max(high, 1)
    inner = SPARK_HEIGHT - 2  # a line at the top or bottom stays inside the box

    def x(at: datetime) -> float:
        return round(SPARK_WIDTH * (at - start).total_seconds() / span) if span else 0

    def y(views: int) -> float:
        return round(1 + inner - inner * views / top)

    coordinates = [(x(at), y(views)) for at, views in samples]
    if len(coordinates) == 1:  # one sample: a level line across
        coordinates.append((SPARK_WIDTH, coordinates[0][1]))
    line = " ".join(f"{cx},{cy}" for cx, cy in coordinates)
    return Spark(line, min(views for _, views in samples), high, len(samples))


def tiles(can_finish: bool, now: datetime | None = None) -> list[Tile]:
    """Every preparing and live stream of the mirror, problems first (see the module's docstring)."""
    now = now or timezone.now()
    rows = list(MirroredStream.objects.filter(status__in=SHOWN, deleted_at=None))
    ids = [row.stream_id for row in rows]
    readiness = {r.stream_id: r for r in Readiness.objects.filter(stream_id__in=ids)} if ids else {}
    preparing = _preparing_since(rows, readiness)
    active = [row for row in rows if row.status == "active"]
    samples = _samples([row.stream_id for row in active], now - SPARK_WINDOW) if active else {}
    made = []
    for row in rows:
        lights = as_of(readiness.get(row.stream_id), row)
        drop = drop_of(row, now)  # the stream's page and the alerts job judge a drop the same way
        since = preparing.get(row.stream_id)
        if drop is not None:
            rank = DROPPED
        elif row.status == "preparing":
            rank = PREPARING_LONG if since is not None and now - since >= PREPARING_TOO_LONG else PREPARING
        elif playable(lights) in (Light.OFF, Light.UNKNOWN):
            rank = NOT_PLAYABLE
        else:
            rank = LIVE
        live = row.status == "active"
        made.append(
            Tile(
                stream_id=row.stream_id,
                name=row.name,
                status=row.status,
                rank=rank,
                readiness=lights,
                views=row.viewers if live else None,
                spark=sparkline(samples.get(row.stream_id, ())) if live else None,
                live_since=row.live_since if live else None,
                live_seconds=(now - row.live_since).total_seconds() if live and row.live_since else None,
                preparing_since=since,
                preparing_seconds=(now - since).total_seconds() if since else None,
                drop=drop,
                can_finish=can_finish and policy.allows(row.status, "finish"),
            )
        )
    return sorted(made, key=_order)


def _order(tile: Tile) -> tuple[Any, ...]:
    if tile.rank == DROPPED:
        first: Any = tile.drop.deadline if tile.drop else None  # the soonest to be ended first
    elif tile.rank in (PREPARING_LONG, PREPARING):
        first = tile.preparing_since or timezone.now()  # the longest waiting first
    else:
        first = -(tile.views or 0)  # the biggest audience first
    return (tile.rank, first, tile.name.lower(), tile.stream_id)


def _turns_at(wall: Sequence[Tile], now: datetime) -> int:
    """When, with nothing else changing, the wall would still look different: the first moment a preparing
    stream becomes "preparing too long" or a drop's reconnect window runs out (epoch seconds; 0: never).
    Carried in the poll's token, so an unchanged poll can be answered without reading the streams and
    still changes on time."""
    moments = [
        tile.preparing_since + PREPARING_TOO_LONG
        for tile in wall
        if tile.rank == PREPARING and tile.preparing_since is not None
    ] + [tile.drop.deadline for tile in wall if tile.drop is not None]
    upcoming = [moment for moment in moments if moment > now]
    return math.ceil(min(upcoming).timestamp()) if upcoming else 0


def _token(version: int, sampling: bool, turns_at: int) -> str:
    return f"{version}-{int(sampling)}-{turns_at}"


def _unchanged(token: str, expected_prefix: str) -> bool:
    """The poll's token shows the same version and sampling state, and no turning point (`_turns_at`) has
    passed since it was rendered."""
    if not token.startswith(expected_prefix):
        return False
    turns_at = token[len(expected_prefix) :]
    return turns_at.isdigit() and (turns_at == "0" or timezone.now().timestamp() < int(turns_at))


# ---------------------------------------------------------------- the view


@require_GET
@requires("view_streams")
@vary_on_headers("HX-Request")
@never_cache
def wall(request: HtmxHttpRequest) -> HttpResponse:
    """The wall, and (an htmx request carrying `?v=`) its 1 s poll: the poller alone while nothing it
    shows changed, else the tiles, morphed in place so that the focused tile keeps its focus."""
    now_pulse = pulse()  # one query, read before the tiles: a change landing meanwhile shows next time
    sampling = now_pulse.freshness.sampling
    prefix = f"{now_pulse.version}-{int(sampling)}-"
    polling = bool(request.htmx) and "v" in request.GET
    delay = _poll_delay()
    if polling and _unchanged(request.GET["v"], prefix):
        poller = {"poll_url": _poll_url(request.GET["v"]), "poll_delay": delay}
        return render(request, "wall/wall.html#wall-poller", poller)
    now = timezone.now()
    shown = tiles(_role_flags(request)["finish"], now)
    token = _token(now_pulse.version, sampling, _turns_at(shown, now))
    context = {
        "tiles": shown,
        "drops": [tile for tile in shown if tile.rank == DROPPED],
        "sampling": sampling,
        "poll_url": _poll_url(token),
        "poll_delay": delay,
        "now": now,
        "server_now_ms": _ms(now),
        "live_count": sum(1 for tile in shown if tile.status == "active"),
        "preparing_count": sum(1 for tile in shown if tile.status == "preparing"),
    }
    if polling:
        return render(request, "wall/wall.html#wall-update", context)
    return render(request, "wall/wall.html", context)


def _poll_url(token: str) -> str:
    return f"{reverse('wall')}?v={token}"
