"""Navigation and role for base.html: the menu shows only what the user's role may use."""

import functools
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from streams.roles import ROLES, perm

_NAV = (
    ("Streams", "stream-list", "view_streams"),
    ("Wall", "wall", "view_streams"),
    ("New stream", "stream-create", "create_stream"),
    ("Recordings", "recording-list", "view_recordings"),
    ("Audit log", "audit-log", "view_audit_log"),
    ("Events", "event-list", "inspect_events"),
)


@functools.cache
def _url(name: str) -> str:
    return reverse(name)  # these URLs take no arguments: resolve each once per process


def console(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {}
    path = request.path
    items = []
    for label, url_name, codename in _NAV:
        if user.has_perm(perm(codename)):
            url = _url(url_name)
            items.append({"label": label, "url": url, "current": path == url})
    # The role is named from the permissions already loaded for the menu: no extra query.
    if user.is_superuser:
        role_name = "Superuser"
    else:
        held = user.get_all_permissions()
        role_name = next(
            (
                role.group
                for role in ROLES.values()
                if held == {perm(codename) for codename in role.permissions}
            ),
            "",
        )
    return {"nav_items": items, "role_name": role_name}
