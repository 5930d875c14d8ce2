"""Fixtures for the emulator's own contract tests: one real server per test process, reset per test.

The fixture names `emulator_server` shadows the suite-wide one on purpose, so these tests use exactly the
server configured here.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from emulator.testing import EmulatorControl, EmulatorServer


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def control(emulator_server: EmulatorServer) -> EmulatorControl:
    """A clean workspace: no streams, faults, log entries or extra tokens; initial settings."""
    emulator_server.control.reset()
    return emulator_server.control


@pytest.fixture(scope="session")
def api_client(emulator_server: EmulatorServer) -> Iterator[httpx.Client]:
    # One client for the session: building an httpx.Client costs tens of milliseconds (TLS context).
    auth = (emulator_server.token_id, emulator_server.secret)
    with httpx.Client(base_url=emulator_server.api_base, auth=auth, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def anonymous_client(emulator_server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator_server.api_base, timeout=10) as client:
        yield client


@pytest.fixture
def api(api_client: httpx.Client, control: EmulatorControl) -> httpx.Client:
    """An authenticated client for `/v1`, like the dashboard's, on a clean workspace."""
    return api_client


@pytest.fixture
def anonymous(anonymous_client: httpx.Client, control: EmulatorControl) -> httpx.Client:
    """A client for `/v1` that sends no credentials unless a test gives some."""
    return anonymous_client
