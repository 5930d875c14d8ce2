"""The console's three roles. Each is a Django group holding some of the permissions on `Console`.

The data migration 0002 creates the groups from a frozen copy of this table.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    key: str
    group: str
    permissions: tuple[str, ...]


ADMIN = Role(
    "admin",
    "Stream admin",
    (
        "view_streams",
        "create_stream",
        "edit_stream",
        "enable_stream",
        "disable_stream",
        "finish_stream",
        "delete_stream",
        "reveal_secrets",
        "view_recordings",
        "view_audit_log",
        "inspect_events",
    ),
)
PRODUCER = Role(
    "producer",
    "Producer",
    ("view_streams", "enable_stream", "disable_stream", "finish_stream", "reveal_secrets", "view_recordings"),
)
REVIEWER = Role("reviewer", "Reviewer", ("view_streams", "view_recordings"))

ROLES = {role.key: role for role in (ADMIN, PRODUCER, REVIEWER)}


def perm(codename: str) -> str:
    """The full permission name for `user.has_perm`."""
    return f"streams.{codename}"


def sync_groups() -> None:
    """Make each role's group exist with exactly its permissions (the migration does this on install;
    tests that flush the database call it again)."""
    from django.contrib.auth.models import Group, Permission

    for role in ROLES.values():
        group, _ = Group.objects.get_or_create(name=role.group)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="streams", codename__in=role.permissions)
        )
