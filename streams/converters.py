"""Path converters for FastPix ids: a URL whose id cannot be one is a 404 before any view runs.

FastPix stream ids are 32 lowercase hex characters and media ids (recordings, clips) are UUIDs (contract
§9 A19; the emulator generates the same). FastPix only ever sends them in lowercase and the console only
links to them that way, so an id in any other case or shape (`.`, `..`, CR/LF, NUL, 4000 characters) is not
the address of anything: the styled 404 page answers, and FastPix is never asked.

The URL pattern takes any one path segment and `to_python` decides (a ValueError is Django's "no match", so
the 404). Reversing stays lenient on purpose: a page that links to an id FastPix could not have sent (an old
audit entry, a malformed FastPix answer) links to that 404 instead of failing as a whole with a 500.
"""

from __future__ import annotations

import re

from django.urls import register_converter

from streams.policy import STREAM_ID

MEDIA_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class _IdConverter:
    regex = "[^/]+"
    shape: re.Pattern[str]

    def to_python(self, value: str) -> str:
        if self.shape.fullmatch(value) is None:
            raise ValueError(value)
        return value

    def to_url(self, value: str) -> str:
        # Any text makes a link (to the 404 when it is no id); a "/" would otherwise fail the reversal.
        return str(value).replace("/", "%2F")


class StreamIdConverter(_IdConverter):
    shape = STREAM_ID


class MediaIdConverter(_IdConverter):
    shape = MEDIA_ID


class StreamActionConverter:
    """The state changes a stream's action URL can name (its confirm page and its POST)."""

    regex = "enable|disable|finish|delete"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    register_converter(StreamIdConverter, "stream_id")
    register_converter(MediaIdConverter, "media_id")
    register_converter(StreamActionConverter, "stream_action")
