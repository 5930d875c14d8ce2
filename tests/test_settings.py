"""Settings come only from the environment, and a bad value stops the start with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


SHOWN = "settings.FASTPIX_API_BASE, settings.DATABASES['default']['ENGINE'], settings.CACHES['default']['BACKEND']"


def load_settings(show: str = SHOWN, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE"}
        and not k.startswith(("FASTPIX_", "DATABASE_URL", "CACHE_URL", "SECRET_KEY", "DEBUG"))
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='dashboard.settings'; django.setup(); "
            f"from django.conf import settings; print({show})",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_point_at_real_fastpix_with_sqlite_and_local_memory() -> None:
    result = load_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "https://api.fastpix.com/v1",
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_secret_key_is_required_when_debug_is_off() -> None:
    result = load_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_on_runs_without_a_secret_key() -> None:
    assert load_settings(DEBUG="1").returncode == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("FASTPIX_API_BASE", "ftp://api.example.com", "FASTPIX_API_BASE must be an http(s) URL"),
        ("FASTPIX_TIMEOUT", "soon", "FASTPIX_TIMEOUT must be a number"),
        ("FASTPIX_TIMEOUT", "0", "FASTPIX_TIMEOUT must be between"),
        ("DATABASE_URL", "nosuchdb://x/y", "DATABASE_URL is not a valid URL"),
        ("CACHE_URL", "nosuchcache://x", "CACHE_URL is not a valid URL"),
        ("VIEWER_COUNT_TTL", "-3", "VIEWER_COUNT_TTL must be between"),
    ],
)
def test_a_bad_value_fails_at_start_naming_the_variable(variable: str, value: str, message: str) -> None:
    result = load_settings(SECRET_KEY="x" * 50, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_a_malformed_webhook_url_is_refused_without_showing_it() -> None:
    """ALERT_WEBHOOK_URL is a secret (Slack's carries its token): the error names the variable only."""
    result = load_settings(
        SECRET_KEY="x" * 50, ALERT_WEBHOOK_URL="hooks.slack.com/services/T0/B0/tok3n-s3cret"
    )
    assert result.returncode != 0
    assert "ALERT_WEBHOOK_URL must be an http(s) URL" in result.stderr
    assert "tok3n-s3cret" not in result.stderr
    assert "hooks.slack.com" not in result.stderr


def test_the_webhook_url_is_kept_as_given_and_base_urls_lose_their_trailing_slash() -> None:
    result = load_settings(
        "settings.ALERT_WEBHOOK_URL, settings.CONSOLE_URL, settings.FASTPIX_API_BASE",
        SECRET_KEY="x" * 50,
        ALERT_WEBHOOK_URL=" https://hooks.example.com/hook/T0/B0/ ",
        CONSOLE_URL="https://console.example.com/",
        FASTPIX_API_BASE="https://api.example.com/v1/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "https://hooks.example.com/hook/T0/B0/",  # trimmed of spaces, its own trailing slash kept
        "https://console.example.com",
        "https://api.example.com/v1",
    ]


def test_env_example_names_every_variable_the_settings_read() -> None:
    """Every variable dashboard/settings.py reads is in .env.example (set, or shown commented out)."""
    import re

    settings_source = (ROOT / "dashboard" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    read = set(
        re.findall(r'(?:env\.\w+|_number|_url|_bool|_parsed)\(\s*"([A-Z][A-Z0-9_]+)"', settings_source)
    )
    assert {
        "SECRET_KEY",
        "DATABASE_URL",
        "FASTPIX_WEBHOOK_SECRET",
        "ALERT_EMAILS",
    } <= read  # the pattern works
    missing = sorted(name for name in read if not re.search(rf"^(# ?)?{name}=", example, re.MULTILINE))
    assert missing == []
