"""The audit log: every attempted action, newest first, filtered by stream, user, action and outcome.

Read-only by design: there is no edit or delete here, and the view answers GET only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from streams.models import AuditEntry
from streams.views.common import HtmxHttpRequest, requires

PAGE_SIZE = 50
FIELD_LABELS = {"reconnectWindow": "Reconnect window (s)"}


@dataclass(frozen=True)
class Change:
    """One field of an entry's before/after, as text ("" when absent on that side)."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class Filters:
    stream: str
    user: str
    action: str
    outcome: str

    @classmethod
    def from_request(cls, request: HtmxHttpRequest) -> Filters:
        action = request.GET.get("action", "")
        outcome = request.GET.get("outcome", "")
        return cls(
            stream=request.GET.get("stream", "").strip()[:300],
            user=request.GET.get("user", "").strip()[:150],
            action=action if action in AuditEntry.Action.values else "",
            outcome=outcome if outcome in AuditEntry.Outcome.values else "",
        )

    @property
    def active(self) -> bool:
        return any((self.stream, self.user, self.action, self.outcome))

    def apply(self, entries: Any) -> Any:
        if self.stream:
            # A stream id, or part of the name the stream had at the time.
            entries = entries.filter(Q(stream_id=self.stream) | Q(stream_name__icontains=self.stream))
        if self.user:
            entries = entries.filter(username__iexact=self.user)
        if self.action:
            entries = entries.filter(action=self.action)
        if self.outcome:
            entries = entries.filter(outcome=self.outcome)
        return entries

    def query(self, **extra: Any) -> str:
        values = {
            key: value
            for key, value in (
                ("stream", self.stream),
                ("user", self.user),
                ("action", self.action),
                ("outcome", self.outcome),
                *extra.items(),
            )
            if value
        }
        return "?" + urlencode(values) if values else "?"


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """{"metadata": {"room": "B"}, "reconnectWindow": 60} → {"metadata.room": "B", "reconnectWindow": "60"}."""
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        if not value and prefix:
            flat[prefix] = "(none)"
        return flat
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return {prefix or "value": text}


def _label(key: str) -> str:
    if key.startswith("metadata."):
        return f"Metadata “{key[len('metadata.') :]}”"
    if key == "metadata":
        return "Metadata"
    return FIELD_LABELS.get(key, key)


def changes(entry: AuditEntry) -> list[Change]:
    """What an edit changed (only the fields that differ); for a create, what it was created with."""
    before = _flatten(entry.before) if entry.before is not None else {}
    after = _flatten(entry.after) if entry.after is not None else {}
    both = entry.before is not None and entry.after is not None
    keys = list(dict.fromkeys([*before, *after]))
    return [
        Change(_label(key), before.get(key, ""), after.get(key, ""))
        for key in keys
        if not (both and before.get(key) == after.get(key))
    ]


@require_GET
@requires("view_audit_log")
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    filters = Filters.from_request(request)
    entries = filters.apply(AuditEntry.objects.all()).order_by("-created_at", "-id")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "changes": changes(entry),
            "has_diff": entry.before is not None or entry.after is not None,
        }
        for entry in page.object_list
    ]
    context = {
        "filters": filters,
        "page": page,
        "rows": rows,
        "actions": AuditEntry.Action.choices,
        "outcomes": AuditEntry.Outcome.choices,
        "previous_query": filters.query(page=page.previous_page_number()) if page.has_previous() else "",
        "next_query": filters.query(page=page.next_page_number()) if page.has_next() else "",
    }
    return render(request, "audit/log.html", context)
