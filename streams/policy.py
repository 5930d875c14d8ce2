"""The FastPix contract's rules, once: the statuses, the words for them, which actions each allows,
and the metadata key that holds a stream's name (contract §2.1, §4.3)."""

from __future__ import annotations

import re
import unicodedata

NAME_KEY = "livestream_name"

# What FastPix reports (§2.1), and the word a person reads for each.
STATUS_WORDS = {"active": "live", "preparing": "preparing", "idle": "idle", "disabled": "disabled"}
STATUSES = frozenset(STATUS_WORDS)
ENABLED = frozenset({"idle", "preparing", "active"})

# Which console action FastPix allows in which status (§4.3). Edit is a PATCH, refused while disabled.
ALLOWED_IN: dict[str, frozenset[str]] = {
    "enable": frozenset({"disabled"}),
    "disable": ENABLED,
    "finish": frozenset({"active"}),
    "delete": STATUSES,
    "edit": ENABLED,
}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def allows(status: str, action: str) -> bool:
    return status in ALLOWED_IN[action]


# FastPix stream ids are 32 lowercase hex characters (contract A19): anything else addresses nothing.
STREAM_ID = re.compile(r"[0-9a-f]{32}")


def is_stream_id(value: object) -> bool:
    return isinstance(value, str) and STREAM_ID.fullmatch(value) is not None


def display_name(metadata: dict[str, str], stream_id: str) -> str:
    """The name a person reads: the livestream_name metadata, or the id's first characters."""
    name = metadata.get(NAME_KEY, "").strip()
    if name:
        return name
    return stream_id[:8] + "…" if len(stream_id) > 8 else stream_id


_DASHES = re.compile("[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_SPACES = re.compile(r"\s+")


def normalize_confirmation(text: str) -> str:
    """What a typed delete confirmation is compared as: dash, whitespace and case variants are one.

    static/js/app.js does the same in the browser, so the button enables exactly when the server agrees.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _DASHES.sub("-", text)
    return _SPACES.sub(" ", text).strip().lower()
