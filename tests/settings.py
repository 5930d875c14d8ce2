"""Test settings: the production settings, fed the environment a test run needs.

The values are only defaults: the PostgreSQL/Redis run (make test-services) sets DATABASE_URL and
CACHE_URL in the environment and they win.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("STATIC_MANIFEST", "0")
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ.setdefault("FASTPIX_API_BASE", "http://127.0.0.1:9/v1")  # each test points it at its emulator
os.environ.setdefault("LOG_LEVEL", "WARNING")

from dashboard.settings import *  # noqa: F403

# Each xdist worker gets its own Redis database: cache.clear() in one worker must not empty another's.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):  # noqa: F405
    _worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    CACHES["default"]["LOCATION"] = CACHES["default"]["LOCATION"].rsplit("/", 1)[0] + f"/{_worker + 1}"  # noqa: F405

# SQLite: a test database file per xdist worker instead of Django's in-memory one, so that tests can
# run what production runs: threads and other processes (gunicorn) on one database, with WAL and the
# busy timeout of dashboard/settings.py. In-memory shared-cache SQLite fails such writers at once.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    _db_dir = os.environ.get("TEST_DB_DIR", "/tmp")
    _suffix = os.environ.get("PYTEST_XDIST_WORKER", "main")
    DATABASES["default"]["TEST"] = {"NAME": f"{_db_dir}/fastpix-console-test-{os.getpid()}-{_suffix}.sqlite3"}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, and only for tests
AXES_ENABLED = True
