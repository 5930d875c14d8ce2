"""Each role signs in through the form and sees only the navigation it may use."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_axe_violations

NAVIGATION = {
    "admin": ["Streams", "Wall", "New stream", "Recordings", "Audit log", "Events"],
    "producer": ["Streams", "Wall", "Recordings"],
    "reviewer": ["Streams", "Wall", "Recordings"],
}


@pytest.mark.parametrize("role", ["admin", "producer", "reviewer"])
def test_each_role_sees_its_own_navigation(page: Page, sign_in: Any, emulator: Any, role: str) -> None:
    emulator.create_stream(status="active", views=12, metadata={"livestream_name": "Main stage"})
    sign_in(role)
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(links).to_have_text(NAVIGATION[role])
    assert_no_axe_violations(page)


def test_a_reviewer_gets_403_on_an_admin_only_url(
    page: Page, sign_in: Any, live_server: Any, emulator: Any
) -> None:
    sign_in("reviewer")
    response = page.goto(f"{live_server.url}/streams/new/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()


def test_the_login_page_has_no_accessibility_violations(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_no_axe_violations(page)
