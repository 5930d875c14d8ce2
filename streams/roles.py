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
