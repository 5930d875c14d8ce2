import functools
import html
from datetime import datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from streams import policy

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`{{ revealed|get_item:field }}`: a dict lookup with a variable key."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.filter
def span(seconds: float | None, under_a_minute: str = "less than a minute") -> str:
    """`{{ 4320|span }}` → "1 h 12 min"; under a minute → "less than a minute" (or the word given)."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    if minutes < 1:
        return under_a_minute
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


# One time format everywhere: "29 Nov 2026, 14:05" with "3 hours ago" on hover. static/js/app.js writes the
# same text in the browser's own zone; the month names are fixed so both sides always agree.
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


@register.filter
def clock(value: datetime | None) -> str:
    """`{{ when|clock }}` → "29 Nov 2026, 14:05", in the current time zone."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local.hour:02d}:{local.minute:02d}"


def relative(value: datetime, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "3 hours ago", "in 2 days": what app.js puts in the title too."""
    seconds = round(((now or timezone.now()) - value).total_seconds())
    span = abs(seconds)
    for unit, size in UNITS:
        n = span // size
        if n >= 1:
            words = f"{n} {unit}{'' if n == 1 else 's'}"
            return f"{words} ago" if seconds >= 0 else f"in {words}"
    return "just now"


@register.simple_tag
def when(value: datetime | None, empty: str = "—") -> str:
    """`{% when stream.created_at %}`: a <time> in the console's one format, relative time on hover."""
    if value is None:
        return empty
    # Every part is made of digits, month names and unit words: nothing to escape (a list page has 50).
    iso = value.replace(microsecond=0).isoformat()
    return mark_safe(f'<time datetime="{iso}" title="{relative(value)}" data-local>{clock(value)}</time>')  # noqa: S308


# The live cells of a stream (its status badge and viewer count) are rendered by these filters wherever
# they appear: the list's rows (50 a page, rendered on every share period), the stream page and its poll.
# Filters rather than {% include %}s: the list renders three times faster (bench/latency.py).
_BADGES = {  # "Live", "Preparing", …: the contract's words for the statuses (streams/policy.py)
    status: mark_safe(f'<span class="badge badge-{status}">{word.capitalize()}</span>')  # noqa: S308 - constants
    for status, word in policy.STATUS_WORDS.items()
}


@register.filter
def badge(status: str | None) -> SafeString:
    """The status badge: a word plus a shape (app.css), never colour alone."""
    known = _BADGES.get(status or "")
    if known is not None:
        return known
    status = status or ""
    word = status[:1].upper() + status[1:] if status else "Unknown"
    return format_html('<span class="badge badge-{}">{}</span>', status or "idle", word)


@register.filter
def viewers(views: int | None, status: str | None) -> SafeString:
    """`{{ views|viewers:status }}`: the approximate count of a live stream; a dash otherwise."""
    if status != "active":
        return mark_safe('<span class="muted" aria-label="not live">—</span>')
    if views is None:
        return mark_safe('<span title="Viewer count unavailable right now">–</span>')
    return mark_safe(str(int(views)))  # noqa: S308 - a number


@functools.cache
def _stream_path() -> str:
    placeholder = "0" * 32
    return reverse("stream-detail", args=[placeholder]).replace(placeholder, "{}", 1)


@register.filter
def stream_path(stream_id: str, tail: str = "") -> str:
    """`{{ stream_id|stream_path:"finish/" }}` → /streams/<id>/finish/: the URLconf is read once per
    process, not once per link (a list page has up to 250 of them)."""
    return _stream_path().format(stream_id) + tail


@register.filter
def ago(seconds: float | None) -> str:
    """`{{ 3.4|ago }}` → "3 s ago": how long since the console's memory was last told something, in the
    units that matter at that age ("just now", "3 s ago", "2 min ago", "5 h ago", "2 days ago")."""
    if seconds is None:
        return ""
    whole = max(int(seconds), 0)
    if whole < 1:
        return "just now"
    if whole < 60:
        return f"{whole} s ago"
    if whole < 3600:
        return f"{whole // 60} min ago"
    if whole < 86400:
        return f"{whole // 3600} h ago"
    days = whole // 86400
    return f"{days} day{'' if days == 1 else 's'} ago"


# The list's row, in Python rather than a template partial: a page renders 50 of them on every visit and
# every poll that finds the mirror changed, and the template engine took 0.2 ms a row (10 ms a page,
# most of a list page's time). Built from the same filters as the rest of the page, escaped by
# escaped; no cache needed in front of it (bench/memory.py, the cold list).
_ROW_ACTIONS = (("finish", "Finish", " danger"), ("enable", "Enable", ""), ("disable", "Disable", ""),
                ("delete", "Delete", ""))  # fmt: skip


@register.simple_tag
def stream_row(stream: Any, views: int | None, actions: Any, oob: bool = False) -> SafeString:
    """`{% stream_row stream views actions oob=True %}`: one `<tr>` of the stream list. `stream` has
    stream_id, name, status, created_at, max_resolution and enable_recording; `actions` maps an action
    to whether this role may take it now."""
    # The id is 32 hex digits (streams/policy.py: the client never takes another) and the cells come from
    # the filters above, which are safe; the name and the resolution are FastPix's text and escaped here.
    stream_id, status = stream.stream_id, stream.status
    name = html.escape(stream.name)
    morph = ' hx-swap-oob="morph"' if oob else ""
    buttons = "".join(
        f'<a class="button small{danger}" href="{stream_path(stream_id, action + "/")}?from=list" '
        f'aria-haspopup="dialog" data-dialog>{word}<span class="visually-hidden"> {name}</span></a>'
        for action, word, danger in _ROW_ACTIONS
        if actions.get(action)
    )
    return mark_safe(  # noqa: S308 - built from escaped text and safe fragments, as said above
        f'<tr id="stream-{stream_id}"{morph}>'
        f'<td><a class="stream-name" href="{stream_path(stream_id)}">{name}</a></td>'
        f'<td id="status-{stream_id}">{badge(status)}</td>'
        f'<td id="viewers-{stream_id}" class="num">{viewers(views, status)}</td>'
        f"<td>{when(stream.created_at)}</td><td>{html.escape(stream.max_resolution or '—')}</td>"
        f"<td>{'On' if stream.enable_recording else 'Off'}</td>"
        f'<td id="actions-{stream_id}"><div class="actions">{buttons}</div></td></tr>\n'
    )
