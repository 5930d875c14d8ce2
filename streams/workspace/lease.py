"""One active worker: a lease row in the database (`WorkerLease`), taken atomically, renewed while held.

Any number of `console_worker` processes may run; the one whose lease has not expired works, the others
try to take it every tick. Taking is one UPDATE guarded by "it is mine, or it has expired", so two takers
can never both succeed, on SQLite (one writer at a time) and on PostgreSQL (the second UPDATE re-reads the
row the first one wrote and no longer matches). A holder that dies stops renewing and a standby takes over
once the row expires: at most `seconds` (plus one tick) later.

Clocks: the row's times come from the database's clock (`Now()` in each statement), never from a worker's,
so workers on machines whose clocks differ still agree on when a lease expires (a standby whose clock ran
ahead would otherwise take a lease its holder had just renewed, and one whose clock lagged would wait that
much longer to replace a dead holder). `Keeper` also keeps a local deadline on the monotonic clock, a little
shorter than the row's, so a worker that was paused (or could not reach the database) stops working before
another may have taken over.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Now

from streams.models import WorkerLease

logger = logging.getLogger("streams.workspace.lease")

WORKER = "console_worker"  # the lease every console_worker competes for
# The local deadline ends this share of the lease early: room for clock skew and a slow UPDATE.
SAFETY = 0.2


def take(name: str, holder: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `seconds`. True when `holder` holds it now."""
    length = timedelta(seconds=seconds)
    updated = WorkerLease.objects.filter(Q(name=name) & (Q(holder=holder) | Q(expires_at__lt=Now()))).update(
        holder=holder,
        expires_at=Now() + length,
        # A renewal keeps when it was first taken; a takeover starts afresh (SET reads the old holder).
        acquired_at=Case(When(holder=holder, then=F("acquired_at")), default=Now()),
    )
    if updated:
        return True
    if WorkerLease.objects.filter(name=name).exists():
        return False
    try:
        with transaction.atomic():
            WorkerLease.objects.create(name=name, holder=holder, acquired_at=Now(), expires_at=Now() + length)
    except IntegrityError:
        return False  # another worker created it first
    return True


def release(name: str, holder: str) -> bool:
    """Give the lease up now (a clean shutdown), so a standby need not wait for it to expire."""
    return bool(
        WorkerLease.objects.filter(name=name, holder=holder).update(expires_at=Now() - timedelta(seconds=1))
    )


def holder_of(name: str) -> str | None:
    """Who holds the lease now (None: nobody, or it expired)."""
    return (
        WorkerLease.objects.filter(name=name, expires_at__gte=Now()).values_list("holder", flat=True).first()
    )


class Keeper:
    """This process's hold on a lease: `acquire()` takes it, then a thread renews it every third of its
    length; `valid()` turns False as soon as a renewal finds it taken by another, or the local deadline
    passes without a renewal (the database was unreachable, the process was paused)."""

    def __init__(self, name: str, holder: str, seconds: float) -> None:
        self.name = name
        self.holder = holder
        self.seconds = seconds
        self._lock = threading.Lock()
        self._valid_until = 0.0  # time.monotonic()
        self._lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def valid(self) -> bool:
        with self._lock:
            return not self._lost and time.monotonic() < self._valid_until

    def acquire(self) -> bool:
        """Try once to take the lease; on success, keep renewing it until released or lost."""
        if self.valid():
            return True
        self._stop.set()  # a renewal thread still trying (the database was unreachable) ends here
        self._join()
        if not self._take():
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="lease-keeper", daemon=True)
        self._thread.start()
        logger.info("took the worker lease as %s", self.holder)
        return True

    def release(self) -> None:
        self._stop.set()
        self._join()
        with self._lock:
            held = not self._lost and self._valid_until > 0
            self._valid_until = 0.0
        if held:
            release(self.name, self.holder)
            logger.info("released the worker lease")

    def _take(self) -> bool:
        started = time.monotonic()
        taken = take(self.name, self.holder, self.seconds)
        with self._lock:
            if taken:
                self._lost = False
                self._valid_until = started + self.seconds * (1 - SAFETY)
            else:
                self._lost = True
        return taken

    def _renew_loop(self) -> None:
        try:
            while not self._stop.wait(self.seconds / 3):
                try:
                    close_old_connections()
                    if not self._take():
                        logger.warning("lost the worker lease: another worker holds it")
                        return
                except Exception:
                    # The deadline decides: valid() turns False if no renewal succeeds in time.
                    logger.exception("could not renew the worker lease")
        finally:
            connection.close()

    def _join(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
