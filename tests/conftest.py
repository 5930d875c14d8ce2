"""Fixtures shared by the whole suite.

Everything but the client's unit tests talks to the real emulator over HTTP on 127.0.0.1: one server per
test process (each xdist worker has its own), reset before every test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from emulator.testing import EmulatorControl, EmulatorServer
from streams.client import reset_client
from streams.roles import ROLES, sync_groups

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be usable there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    server = EmulatorServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_console(settings: Any) -> Iterator[None]:
    """Every test starts with an empty cache, a new FastPix client, and short timeouts and back-off."""
    settings.FASTPIX_TIMEOUT = 1.5
    settings.FASTPIX_RETRY_BACKOFF = 0.01
    cache.clear()
    reset_client()
    yield
    reset_client()


@pytest.fixture
def emulator(emulator_server: EmulatorServer, settings: Any) -> Iterator[EmulatorControl]:
    """A clean emulator, with the console pointed at it."""
    control = emulator_server.control
    control.reset()
    settings.FASTPIX_API_BASE = emulator_server.api_base
    settings.FASTPIX_TOKEN_ID = emulator_server.token_id
    settings.FASTPIX_SECRET_KEY = emulator_server.secret
    reset_client()
    yield control
    control.clear_faults()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: str, username: str | None = None) -> User:
        sync_groups()  # transactional tests flush the groups the data migration made
        user = User.objects.create_user(username or f"{role}-user", password=PASSWORD)
        user.groups.add(Group.objects.get(name=ROLES[role].group))
        return user

    return make


@pytest.fixture
def admin_client(client: Any, make_user: Callable[..., User]) -> Any:
    client.force_login(make_user("admin"))
    return client


@pytest.fixture
def producer_client(client: Any, make_user: Callable[..., User]) -> Any:
    client.force_login(make_user("producer"))
    return client


@pytest.fixture
def reviewer_client(client: Any, make_user: Callable[..., User]) -> Any:
    client.force_login(make_user("reviewer"))
    return client
