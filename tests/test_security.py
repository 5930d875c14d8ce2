"""Security gates over the whole URLconf: login everywhere, POST-only changes with CSRF, secrets
nowhere they should not be, and `check --deploy` clean with the documented production settings."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from streams.models import AuditEntry

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db

PUBLIC = {"login", "healthz", "fastpix-webhook"}
# Views that change something, with the POST data a legitimate user would send.
MUTATIONS = {
    "logout": {},
    "stream-create": {},
    "stream-edit": {},
    "stream-reveal": {"secret": "stream_key"},
    "stream-action": {"confirm": "x"},
    "event-reapply": {"event": "1"},
}


def url_patterns(patterns: list[Any] | None = None) -> list[URLPattern]:
    found: list[URLPattern] = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            found.extend(url_patterns(pattern.url_patterns))
        elif isinstance(pattern, URLPattern):
            found.append(pattern)
    return found


def example_url(pattern: URLPattern, stream_id: str, media_id: str) -> str:
    samples = {"stream_id": stream_id, "media_id": media_id, "action": "finish"}
    regex = pattern.pattern.regex
    kwargs = {name: samples[name] for name in regex.groupindex}
    return reverse(pattern.name, kwargs=kwargs) if pattern.name else "/"


@pytest.fixture
def stream(emulator: Any) -> dict[str, Any]:
    return emulator.create_stream(status="active", views=5, metadata={"livestream_name": "Main stage"})


def test_every_named_url_pattern_is_covered_by_these_gates() -> None:
    names = {p.name for p in url_patterns() if p.name}
    assert names >= PUBLIC | set(MUTATIONS)
    assert all(p.name for p in url_patterns() if str(p.pattern)), "every pattern has a name"


def test_every_page_sends_anonymous_visitors_to_login(
    client: Client, emulator: Any, stream: dict[str, Any]
) -> None:
    checked = 0
    for pattern in url_patterns():
        if pattern.name in PUBLIC:
            continue
        url = example_url(pattern, stream["streamId"], "00000000-0000-4000-8000-000000000000")
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if pattern.name == "logout" and method == "post":
                assert response.status_code == 302  # signing out twice is harmless
                continue
            assert response.status_code == 302, (url, method, response.status_code)
            assert response["Location"].startswith("/login/?next="), url
            checked += 1
    assert checked >= 2 * (len(url_patterns()) - len(PUBLIC) - 1)


def test_login_static_and_healthz_need_no_login(client: Client, emulator: Any) -> None:
    assert client.get("/login/").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("name", sorted(set(MUTATIONS) - {"logout"}))
def test_a_get_never_changes_anything(
    admin_client: Client, emulator: Any, stream: dict[str, Any], name: str
) -> None:
    pattern = next(p for p in url_patterns() if p.name == name)
    url = example_url(pattern, stream["streamId"], "unused")
    emulator.clear_requests()
    response = admin_client.get(url)
    assert response.status_code in {200, 405}
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []
    assert not AuditEntry.objects.exclude(action="reveal").exists() or name == "stream-reveal"
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_post_without_the_csrf_token_is_refused(
    make_user: Any, emulator: Any, stream: dict[str, Any], name: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    pattern = next(p for p in url_patterns() if p.name == name)
    url = example_url(pattern, stream["streamId"], "unused")
    emulator.clear_requests()
    response = client.post(url, MUTATIONS[name])
    assert response.status_code == 403
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []


def test_check_deploy_is_clean_with_the_documented_production_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEBUG", "HTTPS", "STATIC_"))}
    env.update(SECRET_KEY="a" * 10 + "-production-like-secret-key-with-enough-entropy-0123456789", DEBUG="0")
    env.update(ALLOWED_HOSTS="console.example.com", DJANGO_SETTINGS_MODULE="dashboard.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_responses_carry_the_security_headers(admin_client: Client, emulator: Any) -> None:
    response = admin_client.get("/streams/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "frame-src https://play.fastpix.com" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("role", ["admin", "producer", "reviewer"])
def test_secrets_reach_no_page_and_no_log_line(
    client: Client, make_user: Any, emulator: Any, stream: dict[str, Any], role: str, caplog: Any
) -> None:
    client.force_login(make_user(role))
    secrets = [stream["streamKey"], stream["srtSecret"], stream["srtPlaybackResponse"]["srtPlaybackSecret"]]
    caplog.set_level(logging.DEBUG)
    pages = [
        "/streams/",
        f"/streams/{stream['streamId']}/",
        f"/streams/{stream['streamId']}/live/",
        f"/streams/{stream['streamId']}/finish/",
        f"/streams/{stream['streamId']}/delete/",
        f"/streams/{stream['streamId']}/edit/",
        "/streams/new/",
        "/recordings/",
        "/audit/",
    ]
    for url in pages:
        body = client.get(url).content.decode()
        for secret in secrets:
            assert secret not in body, url
    emulator.add_fault(path_regex=r"^/v1/live/streams/", method="GET", status=500, times=None)
    body = client.get(f"/streams/{stream['streamId']}/").content.decode()
    for secret in secrets:
        assert secret not in body
        assert secret not in caplog.text


def test_a_producer_sees_a_secret_only_after_an_explicit_reveal(
    producer_client: Client, emulator: Any, stream: dict[str, Any], caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    page = producer_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert stream["streamKey"] not in page
    revealed = producer_client.post(f"/streams/{stream['streamId']}/reveal/", {"secret": "stream_key"})
    assert stream["streamKey"] in revealed.content.decode()
    assert stream["streamKey"] not in caplog.text
    again = producer_client.get(f"/streams/{stream['streamId']}/").content.decode()
    assert stream["streamKey"] not in again  # masked again on the next visit


def test_error_pages_are_styled_and_show_no_internals(admin_client: Client, rf: Any) -> None:
    from django.views.defaults import server_error

    not_found = admin_client.get("/no/such/page/")
    assert not_found.status_code == 404
    assert "Page not found" in not_found.content.decode()
    crashed = server_error(rf.get("/streams/"))
    body = crashed.content.decode()
    assert crashed.status_code == 500
    assert "Something went wrong on our side" in body
    for internal in ("Traceback", 'File "', "settings", "SECRET_KEY"):
        assert internal not in body
