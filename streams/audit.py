"""Writing the audit log: one entry per attempted action, whatever FastPix answered."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from streams.client import ApiError, FastPixError, InvalidState, NotFound, Unavailable, ValidationFailed
from streams.models import AuditEntry

Outcome = AuditEntry.Outcome


def record(
    request: HttpRequest,
    action: str,
    *,
    stream_id: str = "",
    stream_name: str = "",
    outcome: str,
    message: str = "",
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    user = request.user if request.user.is_authenticated else None
    return AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user else "",
        action=action,
        stream_id=stream_id,
        stream_name=stream_name[:300],
        outcome=outcome,
        message=message[:2000],
        before=before,
        after=after,
    )


def outcome_of(exc: FastPixError) -> str:
    """How a failed call is filed: refused by FastPix's rules, failed, or unknown (it may have happened)."""
    if isinstance(exc, Unavailable):
        return Outcome.UNKNOWN if exc.maybe_processed else Outcome.FAILED
    if isinstance(exc, InvalidState | NotFound | ValidationFailed):
        return Outcome.REFUSED
    return Outcome.FAILED


def message_of(exc: FastPixError) -> str:
    if isinstance(exc, ApiError):
        return exc.message or str(exc)
    return str(exc)
