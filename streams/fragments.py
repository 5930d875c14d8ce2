"""Rendered fragments shared through the cache: a table row is rendered once per distinct content,
not once per request. The key is a digest of everything the fragment shows, so a changed stream,
viewer count or set of allowed actions is a new key and never a stale fragment."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

# Rows show a relative time ("3 hours ago") in a tooltip; a minute of staleness there is fine.
FRAGMENT_SECONDS = 60


def render_each(
    template_name: str,
    contexts: Sequence[dict[str, Any]],
    content_of: Callable[[dict[str, Any]], tuple[Any, ...]],
) -> list[SafeString]:
    """Render `template_name` once per context, reusing any fragment already rendered for the same
    content (`content_of` lists everything the fragment shows). Contexts must not need the request."""
    keys = [
        "frag:" + hashlib.blake2b(repr((template_name, content_of(c))).encode(), digest_size=16).hexdigest()
        for c in contexts
    ]
    found: dict[str, str] = cache.get_many(keys)
    rendered: dict[str, str] = {}
    fragments = []
    for key, context in zip(keys, contexts, strict=True):
        html = found.get(key) or rendered.get(key)
        if html is None:
            html = rendered[key] = render_to_string(template_name, context)
        fragments.append(mark_safe(html))  # noqa: S308 - our own template's output, escaped when rendered
    if rendered:
        cache.set_many(rendered, timeout=FRAGMENT_SECONDS)
    return fragments
