"""Drops, and the incidents a producer must hear about, read from the console's memory (issue 13).

A *drop* is a live stream whose encoder left: the mirror holds `disconnected_at` while the status is
still `active`, and FastPix ends the broadcast unless the encoder returns within the stream's reconnect
window. Pages show it straight from the mirror row (`drop_of`), so a drop reaches every open page with the
mirror's own version bump, worker or not.

The worker's `detect` job turns what the mirror and the events say into `Incident` rows, each under a
unique key, so running it any number of times (or on a second worker after a failover) opens each
incident once; opening one queues its notifications (streams/workspace/notify.py) in the same transaction:
- drop: per stream and `disconnected_at`; it closes when the encoder returns;
- not reconnected: a drop that ended with the broadcast instead (the window ran out), unless someone
  finished, disabled or deleted the stream from this console meanwhile;
- recording failed: a genuine `video.media.failed` event, per media id;
- overrun: live longer than planned (the `planned_minutes` metadata value, else ALERT_PLANNED_MINUTES)
  times ALERT_OVERRUN_FACTOR, per broadcast; it closes when the broadcast ends.

Nothing here calls FastPix, and nothing an incident keeps is a secret: the mirror holds none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from streams.models import AuditEntry, Incident, MirroredStream, ReceivedEvent
from streams.policy import is_stream_id
from streams.workspace import notify
from streams.workspace.pacing import Context

log = logging.getLogger(__name__)

Kind = Incident.Kind

DEFAULT_RECONNECT_WINDOW = 60  # FastPix's default, for a row whose settings do not say
MEDIA_FAILED = "video.media.failed"
# How far back the job looks for failed recordings each run: the key makes a second look harmless, and
# the window is only what a worker that was stopped a while can still catch up on.
FAILED_LOOKBACK = timedelta(minutes=15)
PLANNED_KEY = "planned_minutes"
# A drop that ends with one of these done from the console was ended on purpose: nobody needs telling.
ENDING_ACTIONS = (AuditEntry.Action.FINISH, AuditEntry.Action.DISABLE, AuditEntry.Action.DELETE)
# The mirror's fields `detect` reads (drop_of and reconnect_window, planned_minutes, the summaries): it runs
# every second, so it leaves the rest (search_text, media_ids…) unread. A field missing here would still be
# read, one query per row: tests/test_alerts.py counts them.
DETECT_FIELDS = (
    "stream_id",
    "name",
    "status",
    "deleted_at",
    "disconnected_at",
    "settings",
    "metadata",
    "live_since",
)


# ---------------------------------------------------------------------------------------- the banner


@dataclass(frozen=True)
class Drop:
    """A live stream whose encoder left, and when FastPix ends the broadcast if it does not return."""

    stream_id: str
    name: str
    disconnected_at: datetime
    window: int  # the reconnect window, seconds
    now: datetime  # when this was read: the page's countdown starts from here

    @property
    def deadline(self) -> datetime:
        return self.disconnected_at + timedelta(seconds=self.window)

    @property
    def seconds_left(self) -> int:
        return max(0, int((self.deadline - self.now).total_seconds() + 0.999))

    @property
    def countdown(self) -> str:
        """0:47, 4:05, 1:00:00: what the banner says before the browser takes over the ticking."""
        return countdown(self.seconds_left)

    @property
    def expired(self) -> bool:
        return self.seconds_left == 0


def countdown(seconds: int) -> str:
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def reconnect_window(row: MirroredStream) -> int:
    window = (row.settings or {}).get("reconnect_window")
    return (
        window
        if isinstance(window, int) and not isinstance(window, bool) and window >= 0
        else (DEFAULT_RECONNECT_WINDOW)
    )


def drop_of(row: MirroredStream | None, now: datetime | None = None) -> Drop | None:
    """The stream's drop, while there is one: live, and the encoder gone."""
    if row is None or row.deleted_at is not None or row.status != "active" or row.disconnected_at is None:
        return None
    return Drop(row.stream_id, row.name, row.disconnected_at, reconnect_window(row), now or timezone.now())


# ----------------------------------------------------------------------------------------- incidents


def _moment(value: datetime) -> str:
    """A time as notifications say it: the console's zone, to the second, with the zone's name."""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S %Z}"


def drop_key(stream_id: str, disconnected_at: datetime) -> str:
    return f"drop:{stream_id}:{disconnected_at.isoformat()}"


def open_incident(
    key: str,
    kind: str,
    stream_id: str,
    name: str,
    opened_at: datetime,
    summary: str,
    *,
    now: datetime,
    **detail: Any,
) -> Incident | None:
    """The incident, opened with its notifications queued (due `now`); None when its key was opened before."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    key=key,
                    kind=kind,
                    stream_id=stream_id,
                    stream_name=name,
                    opened_at=opened_at,
                    detail={"summary": summary, **detail},
                )
        except IntegrityError:  # opened meanwhile by another run: once is the point of the key
            return None
        notify.queue(incident, now)
    log.warning("Incident opened: %s (%s)", incident, key)
    return incident


def _unknown(keys: list[str]) -> set[str]:
    """Which of these keys no incident has yet: one query instead of a failed insert each."""
    return set(keys) - set(Incident.objects.filter(key__in=keys).values_list("key", flat=True))


def _open_drops(now: datetime) -> int:
    rows = MirroredStream.objects.filter(
        deleted_at=None, status="active", disconnected_at__isnull=False
    ).only(*DETECT_FIELDS)
    drops = [drop for drop in (drop_of(row, now) for row in rows) if drop is not None]
    new = _unknown([drop_key(d.stream_id, d.disconnected_at) for d in drops])
    opened = 0
    for drop in drops:
        key = drop_key(drop.stream_id, drop.disconnected_at)
        if key not in new:
            continue
        summary = (
            f"{drop.name}: the encoder disconnected at {_moment(drop.disconnected_at)}. "
            f"Reconnect by {_moment(drop.deadline)} (within {drop.window} s), or FastPix ends the broadcast."
        )
        if open_incident(
            key,
            Kind.DROP,
            drop.stream_id,
            drop.name,
            drop.disconnected_at,
            summary,
            now=now,
            disconnected_at=drop.disconnected_at.isoformat(),
            deadline=drop.deadline.isoformat(),
            reconnect_window=drop.window,
        ):
            opened += 1
    return opened


def _ended_from_console(stream_id: str, since: datetime) -> bool:
    return AuditEntry.objects.filter(
        stream_id=stream_id,
        action__in=ENDING_ACTIONS,
        outcome=AuditEntry.Outcome.DONE,
        created_at__gte=since,
    ).exists()


def _close_drops(now: datetime) -> tuple[int, int]:
    """Close the drops that are over: the encoder returned (closed), or the broadcast ended without it
    (closed, and a not-reconnected incident opened)."""
    closed = not_reconnected = 0
    for incident in Incident.objects.filter(kind=Kind.DROP, closed_at=None):
        row = MirroredStream.objects.filter(stream_id=incident.stream_id).only(*DETECT_FIELDS).first()
        drop = drop_of(row, now)
        if drop is not None and drop_key(drop.stream_id, drop.disconnected_at) == incident.key:
            continue  # still dropped
        # Still live (with the encoder back, or gone again since: a new drop) means it reconnected.
        reconnected = row is not None and row.deleted_at is None and row.status == "active"
        outcome = "reconnected" if reconnected else "ended"
        with transaction.atomic():
            if not Incident.objects.filter(pk=incident.pk, closed_at=None).update(
                closed_at=now, detail={**incident.detail, "outcome": outcome}
            ):
                continue  # closed meanwhile by another run
            closed += 1
            left = datetime.fromisoformat(incident.detail["disconnected_at"])
            if reconnected or _ended_from_console(incident.stream_id, left):
                continue
            window = incident.detail.get("reconnect_window", DEFAULT_RECONNECT_WINDOW)
            status = row.status if row is not None else "gone"
            summary = (
                f"{incident.stream_name} did not reconnect: the encoder left at {_moment(left)} and did not "
                f"return within the {window} s reconnect window, so the broadcast ended (status: {status})."
            )
            if open_incident(
                f"not_reconnected:{incident.key.removeprefix('drop:')}",
                Kind.NOT_RECONNECTED,
                incident.stream_id,
                incident.stream_name,
                now,
                summary,
                now=now,
                disconnected_at=incident.detail["disconnected_at"],
                reconnect_window=window,
                status=status,
            ):
                not_reconnected += 1
    return closed, not_reconnected


def planned_minutes(row: MirroredStream) -> float:
    """The broadcast's planned length: its `planned_minutes` metadata value, else the default."""
    raw = (row.metadata or {}).get(PLANNED_KEY)
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = 0.0
    return value if 0 < value < 1e6 else float(settings.ALERT_PLANNED_MINUTES)


def _overruns(now: datetime) -> tuple[int, int]:
    opened = closed = 0
    factor = float(settings.ALERT_OVERRUN_FACTOR)
    live = {
        row.stream_id: row
        for row in MirroredStream.objects.filter(
            deleted_at=None, status="active", live_since__isnull=False
        ).only(*DETECT_FIELDS)
    }
    due: dict[str, tuple[MirroredStream, float]] = {}
    for row in live.values():
        if row.live_since is None:  # the query excludes it; mypy cannot know
            continue
        planned = planned_minutes(row)
        if now - row.live_since > timedelta(minutes=planned * factor):
            due[f"overrun:{row.stream_id}:{row.live_since.isoformat()}"] = (row, planned)
    new = _unknown(list(due))
    for key, (row, planned) in due.items():
        if key not in new or row.live_since is None:
            continue
        minutes = int((now - row.live_since).total_seconds() // 60)
        summary = (
            f"{row.name} has been live for {minutes // 60} h {minutes % 60} min (since "
            f"{_moment(row.live_since)}), far longer than the {planned:g} min planned."
        )
        if open_incident(
            key,
            Kind.OVERRUN,
            row.stream_id,
            row.name,
            now,
            summary,
            now=now,
            live_since=row.live_since.isoformat(),
            planned_minutes=planned,
        ):
            opened += 1
    # An overrun is over with its broadcast.
    for incident in Incident.objects.filter(kind=Kind.OVERRUN, closed_at=None):
        current = live.get(incident.stream_id)
        since = current.live_since if current is not None else None
        if since is None or incident.detail.get("live_since") != since.isoformat():
            closed += Incident.objects.filter(pk=incident.pk, closed_at=None).update(closed_at=now)
    return opened, closed


def _media_id(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    obj, data = payload.get("object"), payload.get("data")
    for value in (
        obj.get("id") if isinstance(obj, dict) else None,
        data.get("id") if isinstance(data, dict) else None,
    ):
        if isinstance(value, str) and value.strip() and len(value) <= 100:
            return value
    return ""


def _failed_recordings(now: datetime) -> int:
    events = ReceivedEvent.objects.filter(
        event_type=MEDIA_FAILED,
        signature=ReceivedEvent.Signature.VALID,
        received_at__gte=now - FAILED_LOOKBACK,
    ).order_by("received_at", "id")
    failures: dict[str, ReceivedEvent] = {}
    for event in events:
        media_id = _media_id(event.payload)
        if media_id:
            failures.setdefault(f"recording_failed:{media_id}", event)
    new = _unknown(list(failures))
    opened = 0
    for key, event in failures.items():
        if key not in new:
            continue
        media_id = key.removeprefix("recording_failed:")
        stream_id = event.stream_id if is_stream_id(event.stream_id) else ""
        row = MirroredStream.objects.filter(stream_id=stream_id).first() if stream_id else None
        name = row.name if row is not None else (stream_id or "A recording")
        when = event.occurred_at or event.received_at
        summary = f"{name}: recording {media_id} failed (FastPix reported it at {_moment(when)})."
        if open_incident(
            key, Kind.RECORDING_FAILED, stream_id, name, when, summary, now=now, media_id=media_id
        ):
            opened += 1
    return opened


def detect(ctx: Context | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The worker's job: open and close incidents from the mirror and the events. Idempotent."""
    now = now or timezone.now()
    drops = _open_drops(now)
    if ctx is not None:
        ctx.check()
    closed, not_reconnected = _close_drops(now)
    overruns, overruns_closed = _overruns(now)
    failed = _failed_recordings(now)
    return {
        "drops": drops,
        "closed": closed + overruns_closed,
        "not_reconnected": not_reconnected,
        "overruns": overruns,
        "recording_failed": failed,
    }
