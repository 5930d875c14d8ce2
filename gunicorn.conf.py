"""gunicorn settings for `make run` and `make demo` (read automatically from the working directory).

Threads, because a console request mostly waits on FastPix; the environment can override each value.
"""

import os
import sys

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 10
keepalive = 5
# One line per request comes from streams.middleware (with its FastPix calls); gunicorn's would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")


def post_worker_init(worker: object) -> None:
    # A thread waiting on FastPix gets the interpreter back within 1 ms, not Python's default 5 ms, while
    # another thread renders or applies a webhook: e.g. Finish's re-read was sent up to 5 ms late when the
    # FastPix events it caused landed meanwhile (bench/memory.py, the cold Finish).
    sys.setswitchinterval(0.001)
