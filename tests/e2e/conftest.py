"""Browser journeys: Playwright driving Debian's Chromium against live_server + the emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}


@pytest.fixture(autouse=True)
def _plain_static_files(settings: Any) -> None:
    # live_server serves static files itself; no manifest is built in tests.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def plain_page(browser: Browser) -> Iterator[Page]:
    """A page with JavaScript off: every page works without it first."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def submit_sign_in(page: Page, username: str) -> None:
    """Fill and send the login form on the page shown (the login page, or the page it stands in for)."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def sign_in(live_server: Any, page: Page, make_user: Callable[..., User]) -> Callable[[str], User]:
    """Sign in through the login form, as a person would."""

    def sign_in_as(role: str) -> User:
        user = make_user(role)
        page.goto(f"{live_server.url}/login/")
        submit_sign_in(page, user.username)
        expect(page.get_by_role("heading", name="Live streams")).to_be_visible()
        return user

    return sign_in_as


def assert_no_axe_violations(page: Page) -> None:
    results = Axe().run(page)
    violations = results.response["violations"]
    assert violations == [], results.generate_report()
