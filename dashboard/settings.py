"""Settings for the FastPix live console, read only from the environment (see .env.example).

A value that cannot be parsed stops the process at start with a message that names the variable.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}.")


def _number(name: str, default: float, *, minimum: float, maximum: float) -> float:
    raw = env.str(name, default=None)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum:g} and {maximum:g}, got {raw!r}.")
    return value


def _url(name: str, default: str, *, secret: bool = False) -> str:
    """An http(s) URL. A base URL (paths are appended to it) loses its trailing slash; a `secret` one (a
    webhook's, which carries its token) is kept exactly as given, and an error never shows it."""
    value = env.str(name, default=default).strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        shown = " (its value is a secret, so it is not shown)" if secret else f", got {value!r}"
        raise ImproperlyConfigured(f"{name} must be an http(s) URL{shown}.")
    return value if secret else value.rstrip("/")


def _parsed(
    name: str, parse: Callable[[str], dict[str, Any]], schemes: dict[str, str], default: str
) -> dict[str, Any]:
    """Run one of django-environ's URL parsers, naming the variable when the value is bad."""
    raw = env.str(name, default=default)
    scheme = urlsplit(raw).scheme
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} is not a valid URL for this setting: unknown scheme {scheme!r} "
            f"(use one of {', '.join(sorted(schemes))})."
        )
    try:
        return parse(raw)
    except Exception as exc:  # django-environ raises several kinds for a bad URL
        raise ImproperlyConfigured(f"{name} is not a valid URL for this setting: {exc}") from None


DEBUG = _bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if not DEBUG else ["*"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "streams",
]

MIDDLEWARE = [
    "streams.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Pages compress 10:1. Django's gzip adds a BREACH mitigation and CSRF tokens are masked per response.
    "django.middleware.gzip.GZipMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "streams.middleware.NoStoreMiddleware",  # after WhiteNoise: static files keep their own caching
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "streams.middleware.HtmxLoginRedirectMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% partialdef %} everywhere without a {% load %}, as in Django 6.
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "streams.context_processors.console",
            ],
        },
    },
]

DATABASES = {
    "default": _parsed(
        "DATABASE_URL", env.db_url_config, env.DB_SCHEMES, f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
# Keep each worker thread's connection between requests (checked before reuse): every page reads the
# session, the user and its permissions from the database, and opening a connection per request (with
# SQLite's pragmas below) cost more than those queries (bench/throughput.py).
DATABASES["default"].setdefault("CONN_MAX_AGE", 600)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (gunicorn workers, `make demo`) write one SQLite file: readers do not block the
    # writer (WAL), a writer waits for another instead of failing at once, and a transaction that will
    # write takes the write lock when it begins rather than failing to upgrade halfway.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
CACHES = {"default": _parsed("CACHE_URL", env.cache_url_config, env.CACHE_SCHEMES, "locmemcache://console")}
# Sessions live in the database: a sign-out in one process ends the session in every other (a per-process
# cache in front of them would keep it alive there).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "streams.auth.VersionedModelBackend",  # ModelBackend, its reads kept under a database version
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "stream-list"
LOGOUT_REDIRECT_URL = "login"

# Failed sign-ins are throttled per username and address: 5 failures lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = int(_number("AXES_FAILURE_LIMIT", 5, minimum=1, maximum=1000))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0

# FastPix. The demo and the tests point FASTPIX_API_BASE at emulator/ on 127.0.0.1.
FASTPIX_API_BASE = _url("FASTPIX_API_BASE", "https://api.fastpix.com/v1")
FASTPIX_TOKEN_ID = env.str("FASTPIX_TOKEN_ID", default="")
FASTPIX_SECRET_KEY = env.str("FASTPIX_SECRET_KEY", default="")
FASTPIX_TIMEOUT = _number("FASTPIX_TIMEOUT", 10.0, minimum=0.1, maximum=120)
FASTPIX_RETRY_BACKOFF = _number("FASTPIX_RETRY_BACKOFF", 1.0, minimum=0, maximum=10)
FASTPIX_PLAYER_URL = _url("FASTPIX_PLAYER_URL", "https://play.fastpix.com")
FASTPIX_STREAM_URL = _url("FASTPIX_STREAM_URL", "https://stream.fastpix.com")
FASTPIX_IMAGES_URL = _url("FASTPIX_IMAGES_URL", "https://images.fastpix.com")
FASTPIX_RTMPS_URL = env.str("FASTPIX_RTMPS_URL", default="rtmps://live.fastpix.com:443/live")
FASTPIX_SRT_HOST = env.str("FASTPIX_SRT_HOST", default="live.fastpix.com:778")
# Seconds the QR code of the full ingest URL (stream key included) stays on screen after a reveal.
QR_VISIBLE_SECONDS = int(_number("QR_VISIBLE_SECONDS", 60, minimum=1, maximum=600))
# How long one viewer count is shared by everyone watching (Django's cache, so Redis shares it too).
VIEWER_COUNT_TTL = _number("VIEWER_COUNT_TTL", 5.0, minimum=0.5, maximum=300)
# Loads of the same list page this close together share one FastPix call (a reload always asks afresh).
LIST_SHARE_SECONDS = _number("LIST_SHARE_SECONDS", 2.0, minimum=0, maximum=60)
# How often an open page asks for fresh live numbers, and how long it waits while FastPix is failing.
# Polls answered from the console's memory cost no FastPix call (an unchanged one is one small query), so
# they run every second: a change FastPix reports reaches every open page within about a second.
LIVE_POLL_SECONDS = int(_number("LIVE_POLL_SECONDS", 1, minimum=1, maximum=300))
# Polls that must ask FastPix each time (a recording being processed) run at this slower pace.
FASTPIX_POLL_SECONDS = int(_number("FASTPIX_POLL_SECONDS", 5, minimum=1, maximum=300))
LIVE_POLL_BACKOFF_SECONDS = int(_number("LIVE_POLL_BACKOFF_SECONDS", 30, minimum=1, maximum=600))

# The console's memory (streams/workspace/, README "The console's memory").
# FastPix's webhook signing secret (Base64, as FastPix's dashboard shows it). Empty: no webhook is accepted
# and the worker keeps statuses fresh by reading FastPix itself.
FASTPIX_WEBHOOK_SECRET = env.str("FASTPIX_WEBHOOK_SECRET", default="").strip()
if FASTPIX_WEBHOOK_SECRET:
    from streams.workspace.signature import is_valid_secret

    if not is_valid_secret(FASTPIX_WEBHOOK_SECRET):
        raise ImproperlyConfigured("FASTPIX_WEBHOOK_SECRET must be the Base64 signing secret FastPix shows.")
# Calls per second the worker may make to FastPix (its sampler and reconciler), whatever the workspace size.
FASTPIX_RATE_LIMIT = _number("FASTPIX_RATE_LIMIT", 150, minimum=1, maximum=10000)
# How often the worker walks FastPix's whole list, so that a missed webhook heals itself.
RECONCILE_SECONDS = _number("RECONCILE_SECONDS", 60, minimum=1, maximum=3600)
# With no event for this long (or no webhook secret), the worker re-reads live streams itself each period.
EVENT_QUIET_SECONDS = _number("EVENT_QUIET_SECONDS", 30, minimum=1, maximum=3600)
# How long a worker's lease lasts unless renewed: a standby takes over at most this long after a crash.
WORKER_LEASE_SECONDS = _number("WORKER_LEASE_SECONDS", 5, minimum=1, maximum=600)
# Seconds the worker waits for a stream's HLS manifest (the Playable light) before saying "unknown".
PROBE_TIMEOUT_SECONDS = _number("PROBE_TIMEOUT_SECONDS", 2.0, minimum=0.1, maximum=30)
# Viewer samples are kept whole this many days, then thinned to one a minute.
SAMPLE_KEEP_DAYS = int(_number("SAMPLE_KEEP_DAYS", 30, minimum=1, maximum=3650))

# Drop alerts and incidents (streams/workspace/alerts.py, notify.py): who hears about a drop, a stream that
# did not reconnect, a failed recording or a broadcast far longer than planned. Neither set: nobody is told
# (the pages and the event inspector still show them).
ALERT_EMAILS = [address.strip() for address in env.list("ALERT_EMAILS", default=[]) if address.strip()]
if any("@" not in address for address in ALERT_EMAILS):
    raise ImproperlyConfigured(
        f"ALERT_EMAILS must be e-mail addresses, comma-separated, got {ALERT_EMAILS!r}."
    )
# A Slack-compatible incoming webhook: one JSON POST {"text": …} per incident. A secret (never logged).
ALERT_WEBHOOK_URL = (
    _url("ALERT_WEBHOOK_URL", "", secret=True) if env.str("ALERT_WEBHOOK_URL", default="").strip() else ""
)
# The console's own address, for the links in notifications (none without it).
CONSOLE_URL = _url("CONSOLE_URL", "") if env.str("CONSOLE_URL", default="").strip() else ""
# "Far longer than planned": live for more than the planned minutes (a stream's `planned_minutes` metadata
# value, else ALERT_PLANNED_MINUTES) times ALERT_OVERRUN_FACTOR.
ALERT_PLANNED_MINUTES = _number("ALERT_PLANNED_MINUTES", 120, minimum=1, maximum=100000)
ALERT_OVERRUN_FACTOR = _number("ALERT_OVERRUN_FACTOR", 1.5, minimum=1, maximum=100)
# A failed notification is tried again after ALERT_RETRY_SECONDS, doubled each time up to
# ALERT_RETRY_MAX_SECONDS, ALERT_MAX_ATTEMPTS times in all; each attempt waits at most ALERT_TIMEOUT.
ALERT_RETRY_SECONDS = _number("ALERT_RETRY_SECONDS", 5, minimum=0.1, maximum=3600)
ALERT_RETRY_MAX_SECONDS = _number("ALERT_RETRY_MAX_SECONDS", 300, minimum=1, maximum=86400)
ALERT_MAX_ATTEMPTS = int(_number("ALERT_MAX_ATTEMPTS", 8, minimum=1, maximum=100))
ALERT_TIMEOUT = _number("ALERT_TIMEOUT", 10, minimum=0.5, maximum=120)
# How the e-mail leaves: smtp://host:25, smtp+tls://user:password@host:587, consolemail:// (django-environ).
_EMAIL = _parsed("EMAIL_URL", env.email_url_config, env.EMAIL_SCHEMES, "smtp://localhost:25")
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(_EMAIL.get("EMAIL_PORT") or 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_EMAIL.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_EMAIL.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = ALERT_TIMEOUT
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="FastPix console <console@localhost>")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# A strict CSP: scripts and styles only from our own origin, frames only from the FastPix player.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", _origin(FASTPIX_IMAGES_URL)],
        "frame-src": [_origin(FASTPIX_PLAYER_URL)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Production hardening; HTTPS=0 turns the HTTPS-only parts off for a plain-HTTP demo on 127.0.0.1.
HTTPS = _bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _bool("BEHIND_PROXY", False) else None
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The request log line (streams.middleware) replaces Django's own per-request noise.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # httpx logs every URL at INFO; our own line per FastPix call is enough.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}
