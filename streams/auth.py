"""The signed-in user and their permissions, shared through the cache.

Every page loads the user and checks the role's permissions, and Django's ModelBackend reads them with
three queries per request. This backend keeps each user and permission set in the cache under a version that any change
to users, groups or their permissions bumps, so a changed role applies on the next request (across
processes when the cache is Redis; within PERMISSIONS_CACHE_SECONDS with a per-process cache, for a
change made by another process such as `manage.py create_console_user`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

PERMISSIONS_CACHE_SECONDS = 60
_VERSION_KEY = "perms:version"


def _version() -> int:
    return int(cache.get(_VERSION_KEY) or 0)


def forget_permissions(**_: Any) -> None:
    """Signal receiver: some user's permissions may have changed."""
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 1, timeout=None)


class CachedPermissionsBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The signed-in user, from the cache while nothing about users or roles has changed (a saved
        user bumps the version, so a password change or deactivation applies on the next request)."""
        key = f"user:{_version()}:{user_id}"
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is not None:
                cache.set(key, user, timeout=PERMISSIONS_CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            key = f"perms:{_version()}:{user_obj.pk}"
            permissions: set[str] | None = cache.get(key)
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                cache.set(key, permissions, timeout=PERMISSIONS_CACHE_SECONDS)
            user_obj._perm_cache = permissions
        return user_obj._perm_cache


def connect_signals() -> None:
    User = get_user_model()
    for sender in (User, Group, Permission):
        post_save.connect(forget_permissions, sender=sender, dispatch_uid=f"perms-save-{sender.__name__}")
        post_delete.connect(forget_permissions, sender=sender, dispatch_uid=f"perms-delete-{sender.__name__}")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(forget_permissions, sender=through, dispatch_uid=f"perms-m2m-{through.__name__}")
