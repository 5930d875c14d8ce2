"""The one way into the mirror (`MirroredStream`): apply what FastPix said about a stream, and when.

Whoever learns something (a webhook, the reconciler's walk of the list, a page's own read, the sampler)
calls `observe`, `forget` or `record_viewers`. Each runs in one transaction, compares the observation's
time with the row's, and applies only what is newer: events arrive late, twice and out of order, and a
slow read may finish after a newer event landed. Every change bumps `WorkspaceVersion` in the same
transaction, which is how polls know, with one query, whether anything changed since they last looked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from streams.client import LiveStream, PlaybackId, Simulcast, without_secrets
from streams.models import MirroredStream, ViewerSample, WorkspaceVersion
from streams.policy import display_name

# The stream's settings the mirror keeps (never a secret: no stream key, no SRT secret or passphrase), with
# the SRT playback stream id (an address, not a secret), so that a row holds everything a read shows.
SETTINGS_FIELDS = (
    "max_resolution",
    "max_duration",
    "reconnect_window",
    "enable_recording",
    "enable_dvr_mode",
    "media_policy",
    "low_latency",
    "closed_captions",
    "trial",
    "srt_playback_stream_id",
)
# What a change is reported on (the inspector's "what it changed", the timeline).
WATCHED = ("name", "status", "metadata", "settings", "media_ids", "disconnected_at", "deleted_at")

Encoder = Literal["connected", "disconnected"] | None
ENDED = ("idle", "disabled")  # a broadcast is over in these


@dataclass(frozen=True)
class Applied:
    """What an observation did: `stale` when it was older than the row and changed nothing."""

    stale: bool
    changes: dict[str, list[Any]]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


STALE = Applied(stale=True, changes={})


def settings_of(stream: LiveStream) -> dict[str, Any]:
    kept: dict[str, Any] = {name: getattr(stream, name) for name in SETTINGS_FIELDS}
    kept["playback_ids"] = [{"id": p.id, "access_policy": p.access_policy} for p in stream.playback_ids]
    kept["simulcasts"] = [
        {"id": s.simulcast_id, "url": s.url, "is_enabled": s.is_enabled, "metadata": dict(s.metadata)}
        for s in stream.simulcasts
    ]
    return kept


def as_stream(row: MirroredStream) -> LiveStream:
    """The stream as the row holds it: what a read said, less its secrets (the mirror keeps none). A row
    written before the mirror kept a field has that field's default, so it holds no read until rewritten."""
    kept = row.settings
    return LiveStream(
        stream_id=row.stream_id,
        status=row.status,
        created_at=row.created_at,
        metadata=dict(row.metadata),
        media_ids=tuple(row.media_ids),
        # Defaults where a row could lack a key: such a row then differs from the read, and is rewritten.
        playback_ids=tuple(
            PlaybackId(p["id"], p.get("access_policy", "public")) for p in kept.get("playback_ids", [])
        ),
        simulcasts=tuple(
            Simulcast(
                s["id"],
                s.get("url", ""),
                is_enabled=s.get("is_enabled", True),
                metadata=s.get("metadata", {}),
            )
            for s in kept.get("simulcasts", [])
        ),
        **{name: kept[name] for name in SETTINGS_FIELDS if name in kept},
    )


def fold(text: str) -> str:
    """Text as search compares it: one Unicode form (an é typed whole or as e and an accent, a ligature or a
    full-width letter as its plain letters), lowercase, and every run of spaces, non-breaking spaces or line
    breaks one space. Python's, so that SQLite and PostgreSQL compare the same strings."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def search_text(name: str, stream_id: str, metadata: Mapping[str, str]) -> str:
    """What search matches: the name, the id and each metadata value, folded, one a line."""
    return "\n".join(fold(part) for part in [name, stream_id, *metadata.values()])


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _fields(row: MirroredStream | None) -> dict[str, Any]:
    if row is None:
        return dict.fromkeys(WATCHED)
    return {name: getattr(row, name) for name in WATCHED}


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [_jsonable(before[name]), _jsonable(after[name])]
        for name in WATCHED
        if before[name] != after[name]
    }


def bump() -> int:
    """Inside the caller's transaction: the mirror or the samples changed. Returns the new version."""
    counter = WorkspaceVersion.objects.filter(id=1)
    if not counter.update(version=F("version") + 1):
        # Only before the row exists (migration 0007 makes it): two first bumps at once both find no row,
        # so each makes sure it exists and then counts, and neither count is lost.
        WorkspaceVersion.objects.get_or_create(id=1, defaults={"version": 0})
        counter.update(version=F("version") + 1)
    return int(counter.values_list("version", flat=True).get())


def touch(stream_ids: Iterable[str]) -> None:
    """Inside the caller's transaction: something shown about these streams changed (their lights):
    the workspace version moves, and so do their rows' revisions."""
    ids = list(stream_ids)
    if ids:
        MirroredStream.objects.filter(stream_id__in=ids).update(revision=bump())


def version() -> int:
    return WorkspaceVersion.objects.filter(id=1).values_list("version", flat=True).first() or 0


def observe(
    stream: LiveStream,
    observed_at: datetime,
    *,
    from_event: bool = False,
    encoder: Encoder = None,
    event_id: str = "",
    event_type: str = "",
) -> Applied:
    """FastPix said at `observed_at` that the stream is as `stream` shows. Applied unless the row already
    holds something newer. An event never brings back a deleted stream (a read that finds it again does)."""
    now = timezone.now()
    with transaction.atomic():
        row = MirroredStream.objects.select_for_update().filter(stream_id=stream.stream_id).first()
        if row is not None and (row.observed_at > observed_at or (from_event and row.deleted_at is not None)):
            return STALE
        before = _fields(row)
        if row is None:
            row = MirroredStream(stream_id=stream.stream_id)
        row.name = stream.name
        row.status = stream.status
        row.created_at = stream.created_at
        row.metadata = dict(stream.metadata)
        row.search_text = search_text(row.name, row.stream_id, row.metadata)
        row.settings = settings_of(stream)
        row.media_ids = list(stream.media_ids)
        row.deleted_at = None
        if stream.status == "active":
            row.last_live_at = observed_at
            if row.live_since is None:
                row.live_since = observed_at
        if stream.status in ENDED:
            row.live_since = None
            row.disconnected_at = None
            row.viewers = None
            row.viewers_at = None
        elif encoder == "disconnected":
            row.disconnected_at = row.disconnected_at or observed_at
        elif encoder == "connected" or stream.status == "preparing":
            row.disconnected_at = None
        row.observed_at = observed_at
        row.synced_at = now
        if event_id:
            row.last_event_id = event_id
            row.last_event_type = event_type
        changes = _diff(before, _fields(row))
        if changes:
            row.revision = bump()
        row.save()
        return Applied(stale=False, changes=changes)


def holds(row: MirroredStream | None, stream: LiveStream) -> bool:
    """Whether the row already shows what a read of `stream` says, so that the read need not be written
    (a page's read costs one write transaction less). Only a read can be skipped this way: it carries no
    encoder state, and a later event older than it can only replay a state the row already went through."""
    return row is not None and row.deleted_at is None and as_stream(row) == without_secrets(stream)


def forget(
    stream_id: str,
    observed_at: datetime,
    *,
    from_event: bool = False,
    event_id: str = "",
    event_type: str = "",
) -> Applied:
    """FastPix said at `observed_at` that the stream is gone. The row stays as a tombstone. A deletion event
    for a stream the mirror does not know yet leaves one too: its older events, arriving after it, must not
    bring it in (a read's 404 for a stream never seen leaves nothing)."""
    now = timezone.now()
    with transaction.atomic():
        row = MirroredStream.objects.select_for_update().filter(stream_id=stream_id).first()
        if row is None and from_event:
            name = display_name({}, stream_id)
            row = MirroredStream(stream_id=stream_id, name=name, search_text=search_text(name, stream_id, {}))
        elif row is None or row.observed_at > observed_at:
            return STALE
        if row.deleted_at is not None:
            return Applied(stale=False, changes={})
        before = _fields(row)
        row.deleted_at = observed_at
        row.status = "deleted"
        row.live_since = row.disconnected_at = row.viewers = row.viewers_at = None
        row.observed_at = observed_at
        row.synced_at = now
        if from_event:
            row.last_event_id = event_id
            row.last_event_type = event_type
        row.revision = bump()
        row.save()
        return Applied(stale=False, changes=_diff(before, _fields(row)))


def add_recording(stream_id: str, media_id: str) -> Applied:
    """A `video.media.*` event named a recording of the stream: its id joins the row's `media_ids` if it
    is not there yet. The row's `observed_at` stays: this is not a statement of the whole stream, and the
    next read of the stream carries its recordings anyway. Nothing for a stream the mirror does not know
    or knows as deleted (the reconciler brings it)."""
    return _change_recordings(stream_id, media_id, add=True)


def remove_recording(stream_id: str, media_id: str) -> Applied:
    """A `video.media.deleted` event: the recording leaves the row's `media_ids`."""
    return _change_recordings(stream_id, media_id, add=False)


def _change_recordings(stream_id: str, media_id: str, *, add: bool) -> Applied:
    with transaction.atomic():
        row = MirroredStream.objects.select_for_update().filter(stream_id=stream_id, deleted_at=None).first()
        if row is None or (media_id in row.media_ids) == add:
            return Applied(stale=False, changes={})
        before = _fields(row)
        row.media_ids = [*row.media_ids, media_id] if add else [m for m in row.media_ids if m != media_id]
        row.revision = bump()
        row.save(update_fields=["media_ids", "revision"])
        return Applied(stale=False, changes=_diff(before, _fields(row)))


def record_viewers(counts: Mapping[str, int], at: datetime) -> int:
    """The sampler's counts taken at `at`: one sample each, and the newest on the stream's row. Counts of
    streams no longer live (an event landed meanwhile) are dropped. Returns how many were kept."""
    if not counts:
        return 0
    with transaction.atomic():
        live = set(
            MirroredStream.objects.filter(
                stream_id__in=list(counts), status="active", deleted_at=None
            ).values_list("stream_id", flat=True)
        )
        kept = {stream_id: views for stream_id, views in counts.items() if stream_id in live}
        ViewerSample.objects.bulk_create(
            ViewerSample(stream_id=stream_id, at=at, views=views) for stream_id, views in kept.items()
        )
        if kept:
            revision = bump()
            for stream_id, views in kept.items():
                MirroredStream.objects.filter(stream_id=stream_id).update(
                    viewers=views, viewers_at=at, revision=revision
                )
        return len(kept)


def live_streams(statuses: Iterable[str] = ("active",)) -> list[str]:
    return list(
        MirroredStream.objects.filter(status__in=list(statuses), deleted_at=None).values_list(
            "stream_id", flat=True
        )
    )
