"""Two gunicorn processes sharing Redis coalesce viewer-count calls: one upstream call per stream per
cache period, however many people poll through however many processes. Runs in `make test-services`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings as django_settings

from tests.consoles import console_env, running_consoles, signed_in

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_consoles(emulator_server: Any, emulator: Any) -> Iterator[list[str]]:
    assert django_settings.CACHES["default"]["BACKEND"].endswith("RedisCache"), "needs CACHE_URL=redis://…"
    env = console_env(
        emulator_server,
        CACHE_URL=django_settings.CACHES["default"]["LOCATION"],
        VIEWER_COUNT_TTL="2",
        GUNICORN_THREADS="8",
    )
    with running_consoles(env) as urls:
        yield urls


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
