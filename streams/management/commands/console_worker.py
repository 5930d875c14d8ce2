"""Run the console's worker: the sampler, the reconciler, the refresher and the thinning of old samples.

python manage.py console_worker                 # works while it holds the lease, else stands by
python manage.py console_worker --holder web-1  # the name it holds the lease under (default host:pid)
python manage.py console_worker --once          # run each job once and exit (non-zero if one failed)

Any number may run (on PostgreSQL, on several machines) for failover; exactly one works at a time. SIGTERM
or SIGINT: the current step finishes, the lease is released, and it exits 0.
"""

import logging
import os
import signal
import socket
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from streams.workspace.worker import Worker

# -v0 warnings only, -v1 (default) one line per job run, -v2 and -v3 every FastPix call too.
LOG_LEVELS = {0: logging.WARNING, 1: logging.INFO, 2: logging.DEBUG, 3: logging.DEBUG}


class Command(BaseCommand):
    help = "Keep the console's memory of FastPix current: viewer samples, reconciles, status refreshes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--holder",
            default=f"{socket.gethostname()}:{os.getpid()}",
            help="The name this worker holds the lease under (default: host:pid).",
        )
        parser.add_argument("--once", action="store_true", help="Run each job once, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        level = LOG_LEVELS.get(options["verbosity"], logging.DEBUG)
        logging.getLogger("streams.workspace").setLevel(level)
        if level == logging.DEBUG:
            logging.getLogger("streams.client").setLevel(logging.DEBUG)

        worker = Worker(holder=options["holder"])

        def stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger("streams.workspace.worker").info(
                "%s: finishing the current step", signal.Signals(signum).name
            )
            worker.shutdown.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if options["once"]:
            if not worker.run_once():
                raise CommandError("a job did not succeed (see its WorkerRun row or the log above)")
        else:
            worker.serve()
