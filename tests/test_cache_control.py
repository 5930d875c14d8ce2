"""`Cache-Control: private, no-store` on every response of the console (issue 11, item 10): a shared browser
or a proxy must not keep what a signed-in person saw. Static files keep WhiteNoise's own long caching."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl
from tests.conftest import PASSWORD
from tests.test_security import MUTATIONS, example_url, url_patterns

pytestmark = pytest.mark.django_db


def assert_not_stored(response: Any, what: str) -> None:
    header = response.get("Cache-Control", "")
    directives = {part.strip().split("=")[0] for part in header.split(",")}
    assert {"private", "no-store"} <= directives, (what, response.status_code, header)
    assert "public" not in directives, (what, header)


@pytest.fixture
def workspace(emulator: EmulatorControl) -> dict[str, str]:
    stream = emulator.create_stream(status="active", views=3, metadata={"livestream_name": "Main stage"})
    media = emulator.create_media(stream["streamId"])
    return {"stream": stream["streamId"], "media": media["id"]}


def test_every_url_pattern_answers_a_signed_in_admin_with_private_no_store(
    admin_client: Client, emulator: EmulatorControl, workspace: dict[str, str]
) -> None:
    checked = set()
    statuses = set()
    for pattern in url_patterns():
        if pattern.name == "logout":
            continue  # signs the client out: checked on its own below
        url = example_url(pattern, workspace["stream"], workspace["media"])
        for method, headers in (("get", {}), ("get", {"HTTP_HX_REQUEST": "true"}), ("post", {})):
            data = MUTATIONS.get(pattern.name or "", {}) if method == "post" else {}
            response = getattr(admin_client, method)(url, data, **headers)
            assert_not_stored(response, f"{method.upper()} {url} {headers}")
            statuses.add(response.status_code)
        checked.add(pattern.name)
    assert checked == {p.name for p in url_patterns()} - {"logout"}
    assert {200, 302, 405} <= statuses  # pages, redirects and refusals alike


@pytest.mark.parametrize(
    "url",
    [
        "/streams/%2e/",  # a malformed id: 404 at the URL
        f"/streams/{'0' * 32}/",  # a stream FastPix does not have: its 404 page
        "/no-such-page/",
        "/streams",  # CommonMiddleware's redirect to /streams/
        "/",  # the redirect to the list
    ],
)
def test_not_found_pages_and_redirects_are_not_stored(
    admin_client: Client, emulator: EmulatorControl, url: str
) -> None:
    response = admin_client.get(url)
    assert response.status_code in {301, 302, 404}
    assert_not_stored(response, url)


def test_refusals_and_fastpix_failures_are_not_stored(
    admin_client: Client, make_user: Any, emulator: EmulatorControl, workspace: dict[str, str]
) -> None:
    reviewer = Client()
    reviewer.force_login(make_user("reviewer"))
    for url in ("/audit/", "/streams/new/", f"/streams/{workspace['stream']}/edit/"):
        response = reviewer.get(url)
        assert response.status_code == 403
        assert_not_stored(response, f"reviewer {url}")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("admin", "strict-admin"))
    response = strict.post(f"/streams/{workspace['stream']}/finish/")
    assert response.status_code == 403  # no CSRF token
    assert_not_stored(response, "CSRF refusal")
    emulator.add_fault(r"^/v1/live/streams", method="GET", status=503, times=None)
    response = admin_client.get("/streams/")
    assert response.status_code == 503
    assert_not_stored(response, "FastPix failing")


def test_signing_in_and_out_are_not_stored_and_static_files_keep_their_own_caching(
    client: Client, make_user: Any, emulator: EmulatorControl, settings: Any
) -> None:
    settings.WHITENOISE_USE_FINDERS = True  # WhiteNoise serves static/ without collectstatic
    settings.WHITENOISE_MAX_AGE = 3600
    make_user("producer", "pat")
    # WhiteNoise answers before the middleware: long-lived caching, as a static file's URL never changes.
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
    assert "max-age=3600" in response["Cache-Control"]
    for response, what in (
        (client.get("/streams/"), "the redirect to the login page"),
        (client.get("/login/"), "the login page"),
        (client.post("/login/", {"username": "pat", "password": "wrong"}), "a failed sign-in"),
        (client.post("/login/", {"username": "pat", "password": PASSWORD}), "the sign-in redirect"),
        (client.get("/streams/", HTTP_HX_REQUEST="true"), "a signed-in fragment"),
        (client.post("/logout/"), "the sign-out redirect"),
        (client.get("/healthz"), "the health check"),
    ):
        assert_not_stored(response, what)
