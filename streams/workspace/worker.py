"""The worker behind `manage.py console_worker`: the lease, and the jobs it runs while holding it.

The main thread ticks every TICK seconds: a standby tries to take the lease; the holder checks it still
holds it. While it holds the lease, each job runs on a thread of its own (a lane), so a long walk of the
list never delays the sampler: sample every VIEWER_COUNT_TTL, refresh every VIEWER_COUNT_TTL while webhooks
are not arriving, reconcile every RECONCILE_SECONDS (and at once), thin hourly. All lanes share one
FastPix client and one rate limit, and stop at their next step when the lease is lost or the worker is
told to stop (SIGTERM, SIGINT), after which a stopping worker releases the lease for a standby.

Every run of a job leaves its `WorkerRun` row: when it started and finished, when it last succeeded, the
error of a failed run, and what it did (calls made, pages, streams...). A failed job is tried again after a
pause that doubles up to a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from streams.client import FastPixError
from streams.models import ReceivedEvent, WorkerRun
from streams.workspace import alerts, notify, readiness, reconcile, sampler
from streams.workspace.lease import WORKER, Keeper
from streams.workspace.pacing import Context, Interrupted, JobFailed, Pacer, worker_client

logger = logging.getLogger("streams.workspace.worker")

TICK = 0.3  # seconds between two looks at the lease
THIN_SECONDS = 3600
MAX_PAUSE = 60.0  # the longest pause after failures in a row
ALERT_SECONDS = 1.0  # between two looks for incidents, and for notifications due


def webhooks_quiet() -> bool:
    """No webhook secret, or no genuine event for EVENT_QUIET_SECONDS: the worker must refresh statuses
    itself. Forged or malformed deliveries do not count: they say nothing about FastPix reaching us."""
    if not settings.FASTPIX_WEBHOOK_SECRET:
        return True
    since = timezone.now() - timedelta(seconds=settings.EVENT_QUIET_SECONDS)
    genuine = ReceivedEvent.objects.filter(signature=ReceivedEvent.Signature.VALID, received_at__gte=since)
    return not genuine.exists()


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Job:
    name: str
    every: Callable[[], float]  # seconds from one start to the next
    run: Callable[[Context], dict[str, Any]]
    wanted: Callable[[], bool] = _always
    quiet: bool = False  # runs every second: a routine success is logged at DEBUG, not INFO


def _sample(ctx: Context) -> dict[str, Any]:
    return sampler.sample(ctx, float(settings.VIEWER_COUNT_TTL))


def _judge_readiness(ctx: Context) -> dict[str, Any]:
    return readiness.judge(ctx, float(settings.VIEWER_COUNT_TTL))


JOBS = (
    Job("reconcile", lambda: float(settings.RECONCILE_SECONDS), reconcile.reconcile),
    Job("sample", lambda: float(settings.VIEWER_COUNT_TTL), _sample),
    Job("refresh", lambda: float(settings.VIEWER_COUNT_TTL), reconcile.refresh, wanted=webhooks_quiet),
    Job("thin", lambda: float(THIN_SECONDS), sampler.thin),
    # Incidents from the mirror every second (a drop's notification leaves within about 2 s of its event),
    # and their notifications on a lane of their own: a slow e-mail server delays nothing else.
    # What they open, send or fail is logged by alerts.py and notify.py themselves.
    Job("alerts", lambda: ALERT_SECONDS, alerts.detect, quiet=True),
    Job("notify", lambda: ALERT_SECONDS, notify.send_due, quiet=True),
    Job("readiness", lambda: float(settings.VIEWER_COUNT_TTL), _judge_readiness),
)


def pause_after(failures: int, every: float) -> float:
    """After `failures` failed runs in a row: the period (at most VIEWER_COUNT_TTL) doubled each time,
    up to a minute."""
    base = min(every, float(settings.VIEWER_COUNT_TTL))
    return min(MAX_PAUSE, base * 2**failures)


def run_job(job: Job, ctx: Context) -> bool:
    """Run `job` once and record it in its WorkerRun row. True when it succeeded."""
    started_at = timezone.now()
    began = time.monotonic()
    WorkerRun.objects.update_or_create(job=job.name, defaults={"started_at": started_at, "finished_at": None})
    ctx.take_calls()
    error = ""
    try:
        detail = job.run(ctx)
    except Interrupted as exc:
        if not ctx.lost_lease:  # a worker that lost the lease writes nothing more
            WorkerRun.objects.filter(job=job.name).update(
                finished_at=timezone.now(), error=f"stopped before it finished ({exc})"
            )
        logger.info("%s stopped: %s", job.name, exc)
        raise
    except JobFailed as exc:
        detail, error = dict(exc.detail), str(exc)
    except FastPixError as exc:
        detail, error = {}, str(exc)
    except Exception as exc:  # a bug, or the database failing: recorded, and the lane carries on
        logger.exception("%s: unexpected error", job.name)
        detail, error = {}, f"{type(exc).__name__}: {exc}"
    detail["calls"] = ctx.take_calls()
    detail["seconds"] = round(time.monotonic() - began, 2)
    finished_at = timezone.now()
    if error:
        WorkerRun.objects.filter(job=job.name).update(finished_at=finished_at, error=error, detail=detail)
        logger.warning(
            "%s failed after %.1f s: %s (%s)", job.name, detail["seconds"], error, _summary(detail)
        )
    else:
        WorkerRun.objects.filter(job=job.name).update(
            finished_at=finished_at, ok_at=finished_at, error="", detail=detail
        )
        logger.log(logging.DEBUG if job.quiet else logging.INFO, "%s done: %s", job.name, _summary(detail))
    return not error


def _summary(detail: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in detail.items())


class Lane(threading.Thread):
    """One job, run every period while the lease is held."""

    def __init__(self, job: Job, ctx: Context) -> None:
        super().__init__(name=f"job-{job.name}", daemon=True)
        self.job = job
        self.ctx = ctx

    def run(self) -> None:
        failures = 0
        next_start = time.monotonic()
        try:
            while True:
                self.ctx.sleep(next_start - time.monotonic())
                began = time.monotonic()
                every = self.job.every()
                try:
                    close_old_connections()
                    if not self.job.wanted():
                        next_start = began + every
                        continue
                    ok = run_job(self.job, self.ctx)
                except Interrupted:
                    raise
                except Exception:
                    logger.exception("%s: unexpected error", self.job.name)
                    ok = False
                failures = 0 if ok else failures + 1
                next_start = began + every if ok else time.monotonic() + pause_after(failures, every)
        except Interrupted:
            pass
        finally:
            self.ctx.close()
            connection.close()


@dataclass
class Worker:
    holder: str
    jobs: tuple[Job, ...] = JOBS
    shutdown: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.keeper = Keeper(WORKER, self.holder, float(settings.WORKER_LEASE_SECONDS))
        self.client = worker_client()
        self.pacer = Pacer(float(settings.FASTPIX_RATE_LIMIT))
        self.lanes: list[Lane] = []

    def _context(self, halt: threading.Event) -> Context:
        return Context(client=self.client, pacer=self.pacer, lease_valid=self.keeper.valid, halt=halt)

    def serve(self) -> None:
        """Until shutdown: hold the lease and run the jobs, or stand by to take over."""
        logger.info("worker %s started", self.holder)
        try:
            while not self.shutdown.is_set():
                try:
                    self._tick()
                except Exception:
                    logger.exception("worker tick failed")  # the database is unreachable: try again
                self.shutdown.wait(TICK)
        finally:
            self._stop_lanes("stopping")
            self._release()
            self.client.close()
            logger.info("worker %s stopped", self.holder)

    def _tick(self) -> None:
        close_old_connections()
        if self.lanes and not self.keeper.valid():
            logger.warning("lost the worker lease: stopping the jobs")
            self._stop_lanes("lost the lease")
        elif self.lanes and not all(lane.is_alive() for lane in self.lanes):
            # Lanes stop by themselves when the lease is not trusted for a moment (a renewal that finished
            # just after the local deadline), and this thread may not have looked during that moment:
            # without this, the worker would hold the lease, renewing it, with its jobs no longer running.
            logger.warning("a job lane stopped: starting the jobs again")
            self._stop_lanes("restarting the jobs")
        if not self.lanes and self.keeper.acquire():
            halt = threading.Event()
            self.lanes = [Lane(job, self._context(halt)) for job in self.jobs]
            for lane in self.lanes:
                lane.start()

    def _stop_lanes(self, reason: str) -> None:
        """Each lane finishes the step it is in (a page, a batch of counts), then ends."""
        for lane in self.lanes:
            lane.ctx.stop(reason)
        for lane in self.lanes:
            lane.join()
        self.lanes = []

    def _release(self) -> None:
        try:
            self.keeper.release()
        except Exception:
            logger.exception("could not release the worker lease (it expires by itself)")

    def run_once(self) -> bool:
        """Take the lease (waiting for it), run every job once in turn, release it. True if all succeeded."""
        try:
            while not self.keeper.acquire():
                if self.shutdown.wait(TICK):
                    return False
            ctx = self._context(self.shutdown)
            try:
                results = [run_job(job, ctx) for job in self.jobs]  # every job runs, even after a failure
                return all(results)
            except Interrupted:
                return False
            finally:
                ctx.close()
        finally:
            self._release()
            self.client.close()
