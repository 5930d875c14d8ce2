"""`manage.py console_worker` as production runs it: real processes on one database (SQLite file or
PostgreSQL), talking to the emulator over HTTP. One works, a standby takes over when it dies, a clean stop
hands the lease over at once, and a kill mid-write leaves no half-applied row."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from streams import policy
from streams.models import MirroredStream, ReceivedEvent, WorkerLease, WorkerRun, WorkspaceVersion
from streams.workspace import lease, mirror
from streams.workspace.worker import Job, Worker, webhooks_quiet
from tests.consoles import ROOT, console_env

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_SECONDS = 2.0
TICK = 0.3
# A loaded two-core machine may be slow to schedule a process: room on top of "lease + one tick".
SLACK = 1.0


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def workers(
    env: dict[str, str], log_dir: Path, *holders: str
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    processes = {}
    try:
        for holder in holders:
            log = (log_dir / f"{holder}.log").open("wb")
            processes[holder] = subprocess.Popen(
                [sys.executable, "manage.py", "console_worker", "--holder", holder],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:
                process.kill()


def worker_env(emulator_server: Any, **overrides: str) -> dict[str, str]:
    settings = {
        "VIEWER_COUNT_TTL": "1",
        "WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        "RECONCILE_SECONDS": "60",
        "FASTPIX_TIMEOUT": "5",
    }
    return console_env(emulator_server, **{**settings, **overrides})


def count_calls(emulator: Any) -> Counter[str]:
    return Counter(
        r["path"].split("/")[4] for r in emulator.requests(path_regex=r"/viewer-count$", method="GET")
    )


def sampled_at() -> Any:
    return WorkerRun.objects.filter(job="sample").values_list("ok_at", flat=True).first()


def test_one_of_two_workers_samples_and_the_other_takes_over_within_the_lease_when_it_is_killed(
    emulator_server: Any, emulator: Any, tmp_path: Path
) -> None:
    active = [emulator.create_stream(status="active", views=7)["streamId"] for _ in range(3)]
    with workers(worker_env(emulator_server), tmp_path, "first", "second") as processes:
        wait_until(sampled_at, 30, "the first sample")
        holder = lease.holder_of(lease.WORKER)
        assert holder in processes
        standby = next(name for name in processes if name != holder)
        time.sleep(1.5)  # both processes are up: the standby has been trying to take the lease

        emulator.clear_requests()
        time.sleep(4.0)  # four periods
        counts = count_calls(emulator)
        assert set(counts) == set(active)
        assert all(3 <= counts[stream_id] <= 5 for stream_id in active), counts  # two samplers would make ~8
        assert b" done: " not in (tmp_path / f"{standby}.log").read_bytes()  # the standby ran no job

        processes[holder].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        wait_until(
            lambda: lease.holder_of(lease.WORKER) == standby, LEASE_SECONDS + TICK + SLACK, "the takeover"
        )
        took = time.monotonic() - killed
        assert took <= LEASE_SECONDS + TICK + SLACK

        before = sampled_at()
        emulator.clear_requests()
        wait_until(lambda: sampled_at() != before, 10, "a sample by the new holder")
        time.sleep(2.0)
        assert all(counts >= 2 for counts in count_calls(emulator).values())
        assert set(count_calls(emulator)) == set(active)
        assert processes[standby].poll() is None


def test_a_stopped_worker_finishes_releases_the_lease_and_the_standby_takes_it_at_once(
    emulator_server: Any, emulator: Any, tmp_path: Path
) -> None:
    # With a 30 s lease, only a release can explain a takeover within seconds.
    env = worker_env(emulator_server, WORKER_LEASE_SECONDS="30")
    with workers(env, tmp_path, "first") as first:
        wait_until(lambda: lease.holder_of(lease.WORKER) == "first", 30, "the first worker to take the lease")
        with workers(env, tmp_path, "second") as second:
            time.sleep(3.0)  # the second is up and standing by
            assert lease.holder_of(lease.WORKER) == "first"

            first["first"].send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            assert first["first"].wait(timeout=15) == 0
            wait_until(lambda: lease.holder_of(lease.WORKER) == "second", 5, "the standby to take the lease")
            assert time.monotonic() - stopped < 5  # far less than the 30 s lease
            assert second["second"].poll() is None
    log = (tmp_path / "first.log").read_text()
    assert "released the worker lease" in log
    assert "reconcile done" in log
    assert emulator_server.secret not in log


def consistent(row: MirroredStream, fastpix: dict[str, Any]) -> bool:
    metadata = fastpix.get("metadata", {})
    return (
        row.metadata == metadata
        and row.name == policy.display_name(metadata, row.stream_id)
        and row.search_text == mirror.search_text(row.name, row.stream_id, metadata)
        and row.status == fastpix["status"]
        and row.settings["reconnect_window"] == fastpix["reconnectWindow"]
    )


def test_a_worker_killed_during_a_reconcile_leaves_a_consistent_mirror_that_the_next_worker_completes(
    emulator_server: Any, emulator: Any, tmp_path: Path
) -> None:
    streams = {
        created["streamId"]: created
        for created in (
            emulator.create_stream(
                metadata={"livestream_name": f"Stream {n}", "room": str(n)}, reconnectWindow=60 + n
            )
            for n in range(400)
        )
    }
    emulator.settings(latency_ms=150)  # 8 pages of 50: a walk of a second or more, long enough to cut short
    # The version row exists before two lanes write at once: when two first bumps race to create it on
    # PostgreSQL, get_or_create hands the loser the winner's row and one count is lost.
    mirror.bump()
    env = worker_env(emulator_server)
    with workers(env, tmp_path, "doomed") as processes:
        wait_until(lambda: 60 <= MirroredStream.objects.count() <= 300, 30, "a reconcile half done")
        processes["doomed"].send_signal(signal.SIGKILL)
        processes["doomed"].wait(timeout=10)

    rows = list(MirroredStream.objects.all())
    assert 60 <= len(rows) < 400
    assert all(consistent(row, streams[row.stream_id]) for row in rows)
    # Each row was written in one transaction with its bump of the workspace version: none without it.
    assert WorkspaceVersion.objects.get().version == 1 + len(rows)
    run = WorkerRun.objects.get(job="reconcile")
    assert (run.finished_at, run.ok_at) == (None, None)  # the mirror does not claim to be synced

    emulator.settings(latency_ms=0)
    finished = subprocess.run(
        [sys.executable, "manage.py", "console_worker", "--once", "--holder", "next"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    rows = list(MirroredStream.objects.all())
    assert len(rows) == 400
    assert all(consistent(row, streams[row.stream_id]) for row in rows)
    assert WorkerRun.objects.get(job="reconcile").ok_at is not None
    assert WorkerLease.objects.get(name=lease.WORKER).holder == "next"
    assert lease.holder_of(lease.WORKER) is None  # --once released it


def test_the_worker_refreshes_statuses_itself_unless_genuine_webhooks_arrived_lately(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = ""
    settings.EVENT_QUIET_SECONDS = 30
    assert webhooks_quiet()  # behind a firewall: always
    settings.FASTPIX_WEBHOOK_SECRET = "c2VjcmV0"
    assert webhooks_quiet()  # a secret, but nothing has arrived yet

    def received(ago: float, signature: str, verdict: str) -> None:
        ReceivedEvent.objects.create(
            received_at=timezone.now() - timedelta(seconds=ago), signature=signature, verdict=verdict
        )

    received(5, ReceivedEvent.Signature.WRONG, ReceivedEvent.Verdict.REJECTED)
    assert webhooks_quiet()  # a forgery says nothing about FastPix reaching the console
    received(45, ReceivedEvent.Signature.VALID, ReceivedEvent.Verdict.APPLIED)
    assert webhooks_quiet()  # too long ago
    received(5, ReceivedEvent.Signature.VALID, ReceivedEvent.Verdict.DUPLICATE)
    assert not webhooks_quiet()


def test_a_walk_longer_than_the_lease_keeps_the_lease_to_the_end(emulator_server: Any, emulator: Any) -> None:
    for n in range(300):
        emulator.create_stream(metadata={"livestream_name": f"Stream {n}"})
    emulator.settings(latency_ms=400)  # 6 pages: a walk of 2.4 s or more, with a 1 s lease
    env = worker_env(emulator_server, WORKER_LEASE_SECONDS="1")
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "manage.py", "console_worker", "--once", "--holder", "slow"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    run = WorkerRun.objects.get(job="reconcile")
    assert run.detail["seconds"] > 2.0  # twice the lease, renewed all along
    assert run.ok_at is not None
    assert run.detail["streams"] == 300
    assert MirroredStream.objects.count() == 300
    assert time.monotonic() - started > 2.4


def test_lanes_stopped_by_a_lease_blip_the_main_thread_missed_are_started_again(settings: Any) -> None:
    # A renewal that finishes just after the local deadline (SQLite's write lock, a slow UPDATE) leaves a
    # short window where the lease is not trusted: every lane checking then stops. The main thread may not
    # look during that window; it must still notice its lanes are gone, or it holds the lease doing nothing
    # and no standby can take over.
    settings.WORKER_LEASE_SECONDS = 3
    runs: list[float] = []

    def probe(_ctx: Any) -> dict[str, Any]:
        runs.append(time.monotonic())
        return {}

    worker = Worker(holder="blip", jobs=(Job("probe", lambda: 0.05, probe),))
    held = worker.keeper.valid
    blip = threading.Event()

    def valid() -> bool:
        # Only the lanes see the blip: the main thread looked just before and just after it.
        return held() and not (blip.is_set() and threading.current_thread().name.startswith("job-"))

    worker.keeper.valid = valid  # type: ignore[method-assign]

    def serve() -> None:
        try:
            worker.serve()
        finally:
            connection.close()

    serving = threading.Thread(target=serve)
    serving.start()
    try:
        wait_until(lambda: len(runs) >= 3, 10, "the probe job to run")
        blip.set()
        wait_until(lambda: not any(lane.is_alive() for lane in worker.lanes), 5, "the lane to stop")
        blip.clear()
        before = len(runs)
        wait_until(lambda: len(runs) >= before + 3, 5, "the probe job to run again")
        assert lease.holder_of(lease.WORKER) == "blip"
    finally:
        worker.shutdown.set()
        serving.join(timeout=15)
    assert not serving.is_alive()
