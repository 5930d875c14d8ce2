"""gunicorn settings for `make run` and `make demo` (read automatically from the working directory).

Threads, because a console request mostly waits on FastPix; the environment can override each value.
"""

import os

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
