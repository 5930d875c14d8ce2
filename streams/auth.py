"""The signed-in user and their permissions, kept per process under a version that lives in the database.

Django's ModelBackend reads the user and two permission sets on every request. Here one small query reads
`AccessVersion`, a number that changes in the same transaction as any change to users, groups or their
permissions (the signals below); the user and the permission set are kept in the cache under that number.
So a changed role, a deactivated user or a new password applies on the next request in every process,
and the cache only makes it faster: with the number in the database, no process can serve a stale role.
A bulk `QuerySet.update()` of users or groups sends no signal: call `bump_access_version()` after one.
Measured by bench/throughput.py (README: "What was removed, and why").
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save

from streams.live import shared_cache
from streams.models import AccessVersion

KEEP_SECONDS = 300  # an unused entry leaves the cache after this; a changed version never reads it again


def access_version() -> int:
    version = AccessVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return int(version or 0)


def bump_access_version(**_: Any) -> None:
    """Signal receiver: some user's identity or permissions changed (in this transaction)."""
    if not AccessVersion.objects.filter(pk=1).update(version=F("version") + 1):
        AccessVersion.objects.get_or_create(pk=1, defaults={"version": 1})  # the row was gone (a flush)


class VersionedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        version = access_version()
        key = f"user:{version}:{user_id}"
        user = shared_cache().get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                shared_cache().set(key, user, timeout=KEEP_SECONDS)
        if user is not None:
            user._access_version = version  # the permission set below is read under the same number
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            version = getattr(user_obj, "_access_version", None)
            if version is None:  # a user not loaded through get_user (a test's force_login, a command)
                user_obj._perm_cache = super().get_all_permissions(user_obj)
                return user_obj._perm_cache
            key = f"perms:{version}:{user_obj.pk}"
            permissions: set[str] | None = shared_cache().get(key)
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                shared_cache().set(key, permissions, timeout=KEEP_SECONDS)
            user_obj._perm_cache = permissions
        return user_obj._perm_cache


def connect_signals() -> None:
    User = get_user_model()
    for sender in (User, Group, Permission):
        uid = sender.__name__
        post_save.connect(bump_access_version, sender=sender, dispatch_uid=f"access-save-{uid}")
        post_delete.connect(bump_access_version, sender=sender, dispatch_uid=f"access-delete-{uid}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(
            bump_access_version, sender=through, dispatch_uid=f"access-m2m-{through.__name__}"
        )
