"""Queries over the mirror: the stream list's search, status filter, sort and pinning (issue 12, item 4).

Everything here reads the database only. A page is one count and one query for its rows; every order
ends with the stream id, so two streams never tie and paging never repeats or skips a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, F, OrderBy, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Left, Replace, StrIndex

from streams.models import MirroredStream
from streams.workspace.mirror import fold

# The status filter's words (what a person picks) and the FastPix status each means.
STATUS_FILTERS = {"live": "active", "preparing": "preparing", "idle": "idle", "disabled": "disabled"}
SORTS = {
    "-created": "Newest first",
    "created": "Oldest first",
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "viewers": "Most viewers",
}
DEFAULT_SORT = "-created"
MAX_QUERY = 200  # characters of a search kept: no name, id or metadata value is longer than 255

# Only a query made of hex digits can match inside a stream id. An id is random, so "bbc" would match
# about one id in 140 by chance: an id matches by its beginning only.
_HEX = re.compile(r"[0-9a-f]+")
# What the list shows of a row: the rest (metadata, search text) is not read for a page.
_SHOWN = ("stream_id", "name", "status", "created_at", "settings", "viewers")


@dataclass(frozen=True)
class Search:
    """What a person asked the list for."""

    q: str = ""  # as typed, whitespace collapsed
    status: str = ""  # a STATUS_FILTERS key, or "" for every status
    sort: str = DEFAULT_SORT
    pin: bool = True  # live streams first

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.status)


@dataclass(frozen=True)
class Found:
    """One page of what matched."""

    rows: list[MirroredStream]
    total: int  # how many streams match, on every page
    page: int
    size: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.size))


def clean_query(raw: str | None) -> str:
    # No name, id or value holds a NUL, and PostgreSQL refuses one in a parameter (a 500): dropped.
    return " ".join((raw or "").replace("\x00", "").split())[:MAX_QUERY]


def _matches(needle: str) -> Q:
    """The name, any metadata value (substrings) or the id (its beginning), as `mirror.fold` compares
    them. `search_text` holds the name, the id and the metadata values, folded, one a line."""
    if _HEX.fullmatch(needle):
        # The plain match first: the id is cut out of the text only of the few rows it finds.
        return Q(stream_id__startswith=needle) | (
            Q(search_text__contains=needle) & Q(text_without_id__contains=needle)
        )
    return Q(search_text__contains=needle)


def matching(search: Search) -> QuerySet[MirroredStream]:
    """Every stream the search matches, deleted ones never."""
    rows = MirroredStream.objects.filter(deleted_at=None)
    if search.status:
        rows = rows.filter(status=STATUS_FILTERS[search.status])
    if search.q:
        needle = fold(search.q)
        if _HEX.fullmatch(needle):
            # The stubs want a Value for the text replaced; Django takes any expression (here, the column).
            without_id = Replace(F("search_text"), F("stream_id"), Value(""), output_field=TextField())  # type: ignore[arg-type]
            rows = rows.alias(text_without_id=without_id)
        rows = rows.filter(_matches(needle))
    return rows


def ordering(search: Search) -> list[OrderBy]:
    """The order of the rows, ending with the stream id: a total order, so pages never overlap."""
    keys: list[OrderBy] = []
    if search.pin:
        keys.append(Case(When(status="active", then=Value(0)), default=Value(1)).asc())
    if search.sort in ("name", "-name"):
        # The name as Python folded it, `search_text`'s first line: SQLite's LOWER() folds ASCII only,
        # which sorted "Éa" and "éc" apart. (A line always follows it: the id. Folding leaves none inside.)
        text = F("search_text")
        name = Left(text, StrIndex(text, Value("\n")) - 1)
        keys.append(name.desc() if search.sort == "-name" else name.asc())
    elif search.sort == "viewers":
        # Only a live stream has viewers; the others follow, newest first.
        live_viewers = Case(When(status="active", then=F("viewers")), default=Value(None))
        keys += [live_viewers.desc(nulls_last=True), F("created_at").desc(nulls_last=True)]
    elif search.sort == "created":
        keys.append(F("created_at").asc(nulls_last=True))
    else:
        keys.append(F("created_at").desc(nulls_last=True))
    keys.append(F("stream_id").asc())
    return keys


def find(search: Search, *, page: int, size: int) -> Found:
    """One page of the streams the search matches: a count and one query for the page's rows."""
    rows = matching(search)
    total = rows.count()
    start = (page - 1) * size
    if start >= total:
        return Found([], total, page, size)
    shown = list(rows.order_by(*ordering(search)).only(*_SHOWN)[start : start + size])
    return Found(shown, total, page, size)


def count_all() -> int:
    """Every stream the workspace has (deleted ones never)."""
    return MirroredStream.objects.filter(deleted_at=None).count()
