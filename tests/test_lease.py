"""The worker lease: one holder at a time, renewed by its holder, taken over once it expires.

Runs on SQLite (`make test`) and on PostgreSQL (`scripts/test_services.sh tests/test_lease.py`)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from streams.models import WorkerLease
from streams.workspace import lease

pytestmark = pytest.mark.django_db(transaction=True)


def expire(name: str) -> None:
    WorkerLease.objects.filter(name=name).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_a_free_lease_is_taken_and_its_holder_renews_it() -> None:
    assert lease.take("jobs", "first", 5)
    first = WorkerLease.objects.get(name="jobs")
    time.sleep(0.01)
    assert lease.take("jobs", "first", 5)
    renewed = WorkerLease.objects.get(name="jobs")
    assert renewed.holder == "first"
    assert renewed.expires_at > first.expires_at
    assert renewed.acquired_at == first.acquired_at  # a renewal is not a new tenure
    assert lease.holder_of("jobs") == "first"


def test_a_held_lease_cannot_be_taken_until_it_expires() -> None:
    assert lease.take("jobs", "first", 5)
    assert not lease.take("jobs", "second", 5)
    assert WorkerLease.objects.get(name="jobs").holder == "first"

    expire("jobs")
    assert lease.holder_of("jobs") is None
    assert lease.take("jobs", "second", 5)
    row = WorkerLease.objects.get(name="jobs")
    assert row.holder == "second"
    assert row.expires_at > timezone.now()
    assert not lease.take("jobs", "first", 5)  # the old holder cannot renew what it lost


def test_a_released_lease_is_free_at_once_and_only_its_holder_can_release_it() -> None:
    assert lease.take("jobs", "first", 60)
    assert not lease.release("jobs", "second")
    assert not lease.take("jobs", "second", 60)
    assert lease.release("jobs", "first")
    assert lease.take("jobs", "second", 60)


def race(name: str, contenders: int) -> list[str]:
    barrier = threading.Barrier(contenders)
    winners: list[str] = []

    def contend(holder: str) -> None:
        try:
            barrier.wait()
            if lease.take(name, holder, 5):
                winners.append(holder)
        finally:
            connection.close()

    threads = [threading.Thread(target=contend, args=(f"worker-{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return winners


def test_one_winner_among_threads_racing_for_a_lease_nobody_held() -> None:
    winners = race("jobs", 8)
    assert len(winners) == 1
    assert WorkerLease.objects.get(name="jobs").holder == winners[0]


def test_one_winner_among_threads_racing_for_an_expired_lease() -> None:
    assert lease.take("jobs", "the-dead-one", 5)
    expire("jobs")
    winners = race("jobs", 8)
    assert len(winners) == 1
    assert WorkerLease.objects.get(name="jobs").holder == winners[0]


def test_a_keeper_renews_the_lease_well_before_it_expires() -> None:
    keeper = lease.Keeper("jobs", "keeper", 1.0)
    try:
        assert keeper.acquire()
        time.sleep(2.5)  # more than two lease lengths: only renewals keep it
        assert keeper.valid()
        assert WorkerLease.objects.get(name="jobs").expires_at > timezone.now()
        assert not lease.take("jobs", "standby", 1.0)
    finally:
        keeper.release()
    assert lease.take("jobs", "standby", 1.0)  # released: free at once


def test_a_keeper_notices_within_a_third_of_the_lease_that_another_worker_took_it() -> None:
    keeper = lease.Keeper("jobs", "keeper", 1.5)
    try:
        assert keeper.acquire()
        WorkerLease.objects.filter(name="jobs").update(holder="thief")
        deadline = time.monotonic() + 1.5 / 3 + 0.5
        while keeper.valid() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not keeper.valid()
    finally:
        keeper.release()
    assert WorkerLease.objects.get(name="jobs").holder == "thief"  # releasing a lost lease touches nothing
    assert lease.holder_of("jobs") == "thief"


def test_a_standby_whose_clock_runs_ahead_cannot_take_a_lease_its_holder_keeps_renewing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Expiry is judged by the database's clock, not by each machine's: a standby 10 s ahead must not see a
    # lease renewed a moment ago as expired (both would then work).
    assert lease.take("jobs", "holder", 5)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=10))
    assert not lease.take("jobs", "standby", 5)
    monkeypatch.undo()
    assert WorkerLease.objects.get(name="jobs").holder == "holder"
    assert lease.take("jobs", "holder", 5)  # and its holder still renews it


def test_a_standby_whose_clock_runs_behind_takes_an_expired_lease_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A holder that died is replaced once its lease expires, not once the standby's slow clock says so.
    assert lease.take("jobs", "the-dead-one", 0.5)
    time.sleep(0.6)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - timedelta(seconds=10))
    assert lease.holder_of("jobs") is None
    assert lease.take("jobs", "standby", 5)
    assert lease.holder_of("jobs") == "standby"
