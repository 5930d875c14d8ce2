"""FastPix webhook events into the console's memory: check, record, de-duplicate, apply (contract §5).

Every delivery becomes one `ReceivedEvent` row, whatever became of it: the event inspector's rows. No
request object in here: the webhook view hands over the raw bytes and the signature header, and the
inspector's "re-apply" calls `apply` on a stored payload.

What is stored is redacted first: FastPix puts a stream's key and SRT secrets in every live-stream event
(`data` is the whole stream, as GET returns it) and a simulcast's key in simulcast events. A delivery whose
signature fails keeps no payload at all, only what it claimed to be.

Events arrive late, twice and out of order. A repeat of an event id already received genuinely is a
`duplicate` and changes nothing: the partial unique constraint on `ReceivedEvent` decides it, inside a
savepoint, so two processes receiving the same event at once apply it once. Order is the mirror's job
(`mirror.observe` ignores what is older than the row it would change), and the event's time is its
`createdAt`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from streams.audit import clean_text, storable
from streams.client import parse_media, parse_stream, parse_time
from streams.models import MirroredStream, ReceivedEvent
from streams.policy import is_stream_id
from streams.workspace import mirror
from streams.workspace.signature import verify

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576  # 1 MB: a stream with 10 metadata entries and simulcasts is a few kB
REDACTED = "[redacted]"
# Keys whose value is a secret wherever they appear (data, simulcasts, anything nested), in any case:
# the contract's names, the docs' typo `srtSecert`, snake_case spellings, and generic secret words.
FASTPIX_SECRET_KEYS = frozenset(
    key.lower()
    for key in ("streamKey", "srtSecret", "srtSecert", "srtPlaybackSecret", "stream_key", "srt_secret")
)
SECRET_KEYS = FASTPIX_SECRET_KEYS | {"secret", "passphrase", "token"}
# A `metadata` map is what a producer typed, shown on every page and kept in the mirror in the clear: a key
# there named "token" or "secret" is a label, not a credential, and what is stored is also what is applied.
# Only FastPix's own secret names are redacted among its entries.
METADATA = "metadata"
MAX_DEPTH = 64  # deeper than any FastPix payload; what lies below is dropped, never stored as text
ID_LENGTH = 100  # ReceivedEvent.event_id / event_type

Verdict = ReceivedEvent.Verdict
Signature = ReceivedEvent.Signature

LIVE = "video.live_stream."
SIMULCAST = "video.live_stream.simulcast_target."
MEDIA = "video.media."
# Contract §5.1. A stream event's `data` is the whole stream; `.deleted` needs none.
LIVE_KINDS = frozenset(
    (
        "created",
        "updated",
        "deleted",
        "idle",
        "recording",
        "disabled",
        "connected",
        "active",
        "disconnected",
        "preparing",
    )
)
SIMULCAST_KINDS = frozenset(("created", "updated", "deleted", "starting", "broadcasting"))
ENCODER: dict[str, mirror.Encoder] = {
    "connected": "connected",
    "active": "connected",
    "preparing": "connected",
    "disconnected": "disconnected",
}

OLDER = "Older than what the console knows: nothing changed."
GONE_RECORDING = "This recording was deleted (its video.media.deleted came first): nothing changed."


@dataclass(frozen=True)
class Outcome:
    """What applying one event did to the mirror."""

    verdict: str
    stream_id: str = ""
    occurred_at: datetime | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    note: str = ""


def redact(value: Any, depth: int = 0) -> Any:
    """`value` with the value of every secret-named key replaced by "[redacted]", at any depth."""
    if depth > MAX_DEPTH:
        return "[nested too deeply]"
    if isinstance(value, dict):
        return {key: _redact_entry(key, item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item, depth + 1) for item in value]
    return value


def _redact_entry(key: Any, item: Any, depth: int) -> Any:
    """One entry of a map, its value at `depth`."""
    name = key.lower() if isinstance(key, str) else None
    if name in SECRET_KEYS:
        return REDACTED
    if name == METADATA and isinstance(item, dict) and depth <= MAX_DEPTH:
        return {
            k: REDACTED if isinstance(k, str) and k.lower() in FASTPIX_SECRET_KEYS else redact(v, depth + 1)
            for k, v in item.items()
        }
    return redact(item, depth)


def record_refusal(verdict: str, *, size: int, note: str) -> ReceivedEvent:
    """A delivery refused before its body was checked (no secret configured, too large, not received whole)."""
    log.warning("Refused a FastPix webhook delivery (%d bytes): %s", size, verdict)
    return ReceivedEvent.objects.create(
        received_at=timezone.now(),
        signature=Signature.NOT_CHECKED,
        verdict=verdict,
        size=size,
        note=note,
    )


def receive(raw: bytes, signature: str | None, *, secret: str) -> ReceivedEvent:
    """One delivery of at most MAX_BODY_BYTES: checked, recorded and, when genuine and new, applied."""
    received_at = timezone.now()
    row = ReceivedEvent(received_at=received_at, size=len(raw))
    if not signature:
        return _rejected(row, raw, Signature.MISSING, "No FastPix-Signature header: nothing applied.")
    if not verify(raw, signature, secret):
        return _rejected(
            row,
            raw,
            Signature.WRONG,
            "The signature does not match the body and the signing secret: nothing applied.",
        )
    row.signature = Signature.VALID
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, cut short, not UTF-8, or nested beyond reading
        return _malformed(row, "The body is not JSON (or was cut short).")
    if not isinstance(payload, dict):
        return _malformed(row, "The body is JSON but not an object.")
    # What is applied is exactly what is stored (and what "re-apply" reads back): redacted, and cleaned of
    # what a database cannot hold (a NUL in a metadata value would fail PostgreSQL's jsonb mid-transaction).
    payload = storable(redact(payload))
    row.payload = payload
    event_id, event_type = payload.get("id"), payload.get("type")
    if not _is_name(event_id) or not _is_name(event_type):
        return _malformed(row, "The event has no usable top-level `id` and `type`.")
    row.event_id = clean_text(event_id)
    row.event_type = clean_text(event_type)
    row.stream_id = _stream_of(payload)
    with transaction.atomic():
        row.verdict = Verdict.APPLIED  # provisional: nobody sees it before this transaction ends
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # this event id was received genuinely before (maybe a moment ago)
            row.pk = None
            row.verdict = Verdict.DUPLICATE
            row.note = "This event id was received before: ignored."
            row.save()
            log.info("FastPix event %r %r: duplicate", row.event_type, row.event_id)
            return row
        outcome = apply(payload, received_at)
        row.verdict = outcome.verdict
        row.stream_id = outcome.stream_id or row.stream_id
        row.occurred_at = outcome.occurred_at
        row.changes = storable(outcome.changes) or None
        row.note = outcome.note
        row.save(update_fields=["verdict", "stream_id", "occurred_at", "changes", "note"])
    log.info("FastPix event %r %r: %s", row.event_type, row.event_id, row.verdict)
    return row


def apply(payload: dict[str, Any], received_at: datetime) -> Outcome:
    """Apply one genuine event (already redacted) to the mirror. `received_at` stands in for the event's
    time when it carries none. An event with an id and a type but without what applying needs (the stream
    it names, its `data`) is kept, answered 200 and applied as nothing: a redelivery would not be better."""
    event_type = str(payload.get("type", ""))
    event_id = str(payload.get("id", ""))
    occurred_at, time_note = _occurred_at(payload.get("createdAt"), received_at)
    data = payload.get("data") if isinstance(payload.get("data"), dict) else None
    if event_type.startswith(SIMULCAST):
        outcome = _simulcast(event_type.removeprefix(SIMULCAST), data)
    elif event_type.startswith(LIVE) and event_type.removeprefix(LIVE) in LIVE_KINDS:
        outcome = _live(event_type, event_id, _object_id(payload), data, occurred_at)
    elif event_type.startswith(MEDIA):
        outcome = _media(event_type.removeprefix(MEDIA), _object_id(payload), data)
    else:
        outcome = Outcome(
            Verdict.UNKNOWN_TYPE, note="The console does not know this event type: kept, nothing applied."
        )
    note = " ".join(part for part in (outcome.note, time_note) if part)
    return Outcome(outcome.verdict, outcome.stream_id, occurred_at, outcome.changes, note)


def reapplicable(event: ReceivedEvent) -> bool:
    """Genuine, stored, and of a kind that changes something: the inspector offers "Re-apply"."""
    return (
        event.signature == Signature.VALID
        and isinstance(event.payload, dict)
        and event.verdict in (Verdict.APPLIED, Verdict.UNCHANGED, Verdict.OUT_OF_ORDER, Verdict.DUPLICATE)
    )


def reapply(event: ReceivedEvent) -> Outcome:
    """Run a stored event through `apply` again. The ordering rule still holds: an event older than what
    the mirror knows changes nothing. The stored row is left as it was received."""
    if not reapplicable(event) or not isinstance(event.payload, dict):
        raise ValueError(f"event {event.pk} cannot be re-applied")
    outcome = apply(event.payload, event.received_at)
    log.info("FastPix event %r %r re-applied: %s", event.event_type, event.event_id, outcome.verdict)
    return outcome


# ------------------------------------------------------------------------------------------------ helpers


def _rejected(row: ReceivedEvent, raw: bytes, signature: str, note: str) -> ReceivedEvent:
    """No payload kept; what it claimed to be is kept so that an administrator can tell a forgery from
    a misconfigured secret."""
    row.signature = signature
    row.verdict = Verdict.REJECTED
    row.note = note
    claimed = _claimed(raw)
    if claimed is not None:
        row.event_id = clean_text(claimed.get("id"), ID_LENGTH) if _is_name(claimed.get("id")) else ""
        row.event_type = clean_text(claimed.get("type"), ID_LENGTH) if _is_name(claimed.get("type")) else ""
        row.stream_id = _stream_of(claimed)
    row.save()
    log.warning("Rejected a FastPix webhook delivery (%d bytes): signature %s", row.size, signature)
    return row


def _malformed(row: ReceivedEvent, note: str) -> ReceivedEvent:
    row.verdict = Verdict.MALFORMED
    row.note = note
    row.save()
    log.warning("Malformed FastPix webhook delivery (%d bytes): %s", row.size, note)
    return row


def _claimed(raw: bytes) -> dict[str, Any] | None:
    try:
        claimed = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return claimed if isinstance(claimed, dict) else None


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= ID_LENGTH


def _object_id(payload: dict[str, Any]) -> str:
    obj = payload.get("object")
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _stream_of(payload: dict[str, Any]) -> str:
    """The stream an event concerns: a live event's object, or the `streamId` in its data (media and
    simulcast events). Only ever a well-formed stream id: it becomes a link."""
    event_type = payload.get("type")
    data = payload.get("data")
    from_data = data.get("streamId") if isinstance(data, dict) else None
    from_object = _object_id(payload)
    is_live = (
        isinstance(event_type, str) and event_type.startswith(LIVE) and not event_type.startswith(SIMULCAST)
    )
    for candidate in (from_object, from_data) if is_live else (from_data,):
        if is_stream_id(candidate):
            return str(candidate)
    return ""


def _occurred_at(created_at: Any, received_at: datetime) -> tuple[datetime, str]:
    """The event's own time (`createdAt`), or the time of receipt when it has none the console can use.
    Never later than its receipt: a clock running ahead must not make later reads look older."""
    moment = parse_time(created_at)  # in UTC, as the database keeps it; None when unusable
    if moment is None:
        return received_at, "No usable createdAt: ordered by the time of receipt."
    if moment > received_at:
        return (
            received_at,
            "createdAt was later than its receipt (clocks differ): ordered by the time of receipt.",
        )
    return moment, ""


def _verdict(applied: mirror.Applied) -> str:
    if applied.stale:
        return Verdict.OUT_OF_ORDER
    return Verdict.APPLIED if applied.changed else Verdict.UNCHANGED


def _live(
    event_type: str, event_id: str, object_id: str, data: dict[str, Any] | None, occurred_at: datetime
) -> Outcome:
    kind = event_type.removeprefix(LIVE)
    from_data = data.get("streamId") if data is not None else None
    stream_id = object_id if is_stream_id(object_id) else str(from_data) if is_stream_id(from_data) else ""
    if not stream_id:
        return Outcome(Verdict.UNCHANGED, note="The event names no stream (object.id): nothing applied.")
    if is_stream_id(from_data) and from_data != stream_id:
        return Outcome(
            Verdict.UNCHANGED,
            stream_id,
            note="object.id and data.streamId name different streams: nothing applied.",
        )
    if kind == "deleted":
        applied = mirror.forget(
            stream_id, occurred_at, from_event=True, event_id=event_id, event_type=event_type
        )
    elif data is None:
        return Outcome(
            Verdict.UNCHANGED, stream_id, note="The event carries no stream in `data`: nothing applied."
        )
    else:
        stream = parse_stream(data, stream_id=stream_id)
        if stream.media_ids and (gone := _deleted_recordings(stream_id)):
            stream = replace(stream, media_ids=tuple(m for m in stream.media_ids if m not in gone))
        applied = mirror.observe(
            stream,
            occurred_at,
            from_event=True,
            encoder=ENCODER.get(kind),
            event_id=event_id,
            event_type=event_type,
        )
    return Outcome(_verdict(applied), stream_id, changes=applied.changes, note=_why_stale(applied, stream_id))


def _why_stale(applied: mirror.Applied, stream_id: str) -> str:
    if not applied.stale:
        return ""
    row = MirroredStream.objects.filter(stream_id=stream_id).values_list("deleted_at", flat=True)
    if not row.exists():
        return "The console does not know this stream yet: nothing changed (the reconciler brings it)."
    if row.first() is not None:
        return (
            "The stream is deleted in the console's memory; an event never brings it back: nothing changed."
        )
    return OLDER


def _deleted_recordings(stream_id: str) -> set[str]:
    """The stream's recordings a genuine `video.media.deleted` said are gone. A deletion is final: an
    event that comes after it (a late `ready`, a stream's older `data.mediaIds`) never brings one back."""
    deletions = ReceivedEvent.objects.filter(
        stream_id=stream_id, event_type=f"{MEDIA}deleted", signature=Signature.VALID
    ).values_list("payload__object__id", "payload__data__id")
    return {media_id for pair in deletions for media_id in pair if isinstance(media_id, str) and media_id}


def _media(kind: str, object_id: str, data: dict[str, Any] | None) -> Outcome:
    if data is None:
        return Outcome(Verdict.UNCHANGED, note="The event carries no media in `data`: nothing applied.")
    media = parse_media(data, media_id=object_id)
    stream_id = media.stream_id or ""
    if not is_stream_id(stream_id):
        stream_id = ""
    if not media.id:
        return Outcome(Verdict.UNCHANGED, stream_id, note="The event names no media id: nothing applied.")
    if not stream_id:
        return Outcome(Verdict.UNCHANGED, note="Not the recording of a live stream: nothing to apply.")
    if kind != "deleted" and media.id in _deleted_recordings(stream_id):
        return Outcome(Verdict.OUT_OF_ORDER, stream_id, note=GONE_RECORDING)
    if kind == "deleted":
        applied = mirror.remove_recording(stream_id, media.id)
    else:
        applied = mirror.add_recording(stream_id, media.id)
    note = "" if applied.changed else "The stream's recordings already say so (or the stream is not known)."
    return Outcome(_verdict(applied), stream_id, changes=applied.changes, note=note)


def _simulcast(kind: str, data: dict[str, Any] | None) -> Outcome:
    if kind not in SIMULCAST_KINDS:
        return Outcome(
            Verdict.UNKNOWN_TYPE, note="The console does not know this event type: kept, nothing applied."
        )
    from_data = data.get("streamId") if data is not None else None
    stream_id = str(from_data) if is_stream_id(from_data) else ""
    # The stream's next update or read carries its simulcasts; the event is kept for its timeline.
    return Outcome(
        Verdict.UNCHANGED,
        stream_id,
        note="Simulcast target event: kept for the stream's timeline; its next update or read carries its simulcasts.",
    )
