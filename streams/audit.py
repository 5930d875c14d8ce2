"""Writing the audit log: one entry per attempted action, whatever FastPix answered."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
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
    """Write one entry. Whatever a request or FastPix carried is made storable first (see `storable`)."""
    user = request.user if request.user.is_authenticated else None
    return AuditEntry.objects.create(
        user=user,
        username=_column("username", user.get_username() if user else ""),
        action=_column("action", action),
        stream_id=_column("stream_id", stream_id),
        stream_name=_column("stream_name", stream_name),
        outcome=_column("outcome", outcome),
        message=clean_text(message, MESSAGE_LIMIT),
        before=storable(before),
        after=storable(after),
    )


# ---------------------------------------------------------------- making anything storable

MESSAGE_LIMIT = 2000
VALUE_LIMIT = 2000  # one string inside `before`/`after`
MAX_DEPTH = 20  # deeper than any real before/after; what lies below is kept as text


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # a str can hold one; UTF-8 cannot encode it


def clean_text(value: Any, limit: int | None = None) -> str:
    """Text PostgreSQL and SQLite both store: no NUL (text and jsonb reject U+0000), no lone surrogate (it
    becomes U+FFFD), at most `limit` characters (the column's length; "…" marks the cut)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = (value if isinstance(value, str) else _text_of(value)).replace("\x00", "")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…" if limit > 0 else ""
    return _LONE_SURROGATE.sub("\ufffd", text)


def storable(value: Any, depth: int = 0) -> Any:
    """`value` as JSON both databases store: strings cleaned (keys too), numbers finite and printable,
    anything else — dates, decimals, objects, sets, structures nested too deep or containing themselves —
    as its text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else clean_text(value, VALUE_LIMIT)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # jsonb has no NaN or Infinity
    if isinstance(value, str):
        return clean_text(value, VALUE_LIMIT)
    if depth >= MAX_DEPTH:
        return clean_text(value, VALUE_LIMIT)
    if isinstance(value, Mapping):
        return {clean_text(key, VALUE_LIMIT): storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [storable(item, depth + 1) for item in value]
    return clean_text(value, VALUE_LIMIT)


def _text_of(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a failing __str__, a structure too deep to print, an int too long to print
        return f"<{type(value).__name__}>"


def _column(name: str, value: Any) -> str:
    return clean_text(value, getattr(AuditEntry._meta.get_field(name), "max_length", None))


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
