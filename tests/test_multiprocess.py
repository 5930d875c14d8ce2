"""Two gunicorn processes sharing Redis coalesce viewer-count calls: one upstream call per stream per
cache period, however many people poll through however many processes. Runs in `make test-services`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings as django_settings

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def two_consoles(emulator_server: Any, emulator: Any) -> Iterator[list[str]]:
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "needs CACHE_URL=redis://…"
    database = django_settings.DATABASES["default"]
    env = {
        **os.environ,
        "SECRET_KEY": "shared-by-both-processes",
        "DEBUG": "0",
        "HTTPS": "0",
        "STATIC_MANIFEST": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        "CACHE_URL": django_settings.CACHES["default"]["LOCATION"],
        "FASTPIX_API_BASE": emulator_server.api_base,
        "FASTPIX_TOKEN_ID": emulator_server.token_id,
        "FASTPIX_SECRET_KEY": emulator_server.secret,
        "VIEWER_COUNT_TTL": "2",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "8",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "dashboard.wsgi", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    client.get("/login/")
    response = client.post(
        "/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": f"{base}/login/"},
    )
    assert response.status_code == 302, response.text
    return client


def test_two_processes_sharing_redis_make_one_viewer_count_call_per_stream_per_period(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    active = [emulator.create_stream(status="active", views=n)["streamId"] for n in range(5)]
    make_user("producer", "poller")
    clients = [signed_in(base, "poller") for base in two_consoles]
    emulator.clear_requests()

    started = time.monotonic()
    duration = 6.0  # three 2-second cache periods

    def poll(index: int) -> int:
        client = clients[index % 2]
        statuses = 0
        while time.monotonic() - started < duration:
            statuses += client.get("/streams/live/?page=1&size=10&order=newest").status_code == 200
        return statuses

    with ThreadPoolExecutor(max_workers=16) as pool:
        successes = sum(pool.map(poll, range(16)))
    assert successes > 50

    counts = Counter(
        r["path"].split("/")[4] for r in emulator.requests(path_regex=r"/viewer-count$", method="GET")
    )
    periods = duration / 2 + 1  # a period may straddle the start and the end
    for stream_id in active:
        assert 1 <= counts[stream_id] <= periods, counts
