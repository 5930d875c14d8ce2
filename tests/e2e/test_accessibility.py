"""Accessibility gates: axe finds nothing on any page or open dialog, for each role; and a person
using only the keyboard can sign in, open a live stream and finish it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_no_axe_violations

PAGES = {
    "admin": ["/streams/", "/streams/{live}/", "/streams/{idle}/edit/", "/streams/new/", "/recordings/",
              "/recordings/{media}/", "/audit/", "/streams/{live}/finish/", "/streams/{idle}/delete/",
              "/streams/{disabled}/enable/"],
    "producer": ["/streams/", "/streams/{live}/", "/recordings/", "/recordings/{media}/", "/streams/{live}/disable/"],
    "reviewer": ["/streams/", "/streams/{live}/", "/recordings/", "/recordings/{media}/"],
}  # fmt: skip
DIALOGS = {
    "admin": ["Finish broadcast", "Disable", "Delete…"],
    "producer": ["Finish broadcast", "Disable"],
    "reviewer": [],
}


@pytest.fixture
def workspace(emulator: Any) -> dict[str, str]:
    live = emulator.create_stream(status="active", views=214, metadata={"livestream_name": "Main stage"})
    idle = emulator.create_stream(metadata={"livestream_name": "Side room"})
    disabled = emulator.create_stream(status="disabled", metadata={"livestream_name": "Old stream"})
    media = emulator.create_media(live["streamId"], status="Ready")
    return {
        "live": live["streamId"],
        "idle": idle["streamId"],
        "disabled": disabled["streamId"],
        "media": media["id"],
    }


@pytest.mark.parametrize("role", ["admin", "producer", "reviewer"])
def test_axe_finds_no_violations_on_any_page_or_dialog(
    page: Page, sign_in: Any, live_server: Any, workspace: dict[str, str], role: str
) -> None:
    page.route(
        "https://play.fastpix.com/**",
        lambda route: route.fulfill(body="<title>player</title>", content_type="text/html"),
    )
    sign_in(role)
    for path in PAGES[role]:
        response = page.goto(live_server.url + path.format(**workspace))
        assert response is not None
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert_no_axe_violations(page)
    for button in DIALOGS[role]:
        page.goto(f"{live_server.url}/streams/{workspace['live']}/")
        page.get_by_role("link", name=button).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        assert_no_axe_violations(page)
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()


def tab_to(page: Page, text: str, limit: int = 60) -> None:
    """Press Tab until the focused element's text contains `text`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement ? document.activeElement.textContent : ''")
        if text in (focused or ""):
            return
    raise AssertionError(f"never reached {text!r} with Tab")


def test_a_keyboard_only_producer_signs_in_opens_a_live_stream_and_finishes_it(
    page: Page, live_server: Any, make_user: Any, emulator: Any
) -> None:
    stream = emulator.create_stream(status="active", views=214, metadata={"livestream_name": "Main stage"})
    user = make_user("producer")
    page.goto(f"{live_server.url}/login/")
    page.keyboard.type(user.username)  # the username field has focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Live streams")).to_be_visible()

    tab_to(page, "Main stage")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Main stage")).to_be_visible()

    tab_to(page, "Finish broadcast")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Finish broadcast")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Finished the broadcast of “Main stage”")).to_be_visible()
    assert emulator.stream_state(stream["streamId"])["stream"]["status"] == "idle"
