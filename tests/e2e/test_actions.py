"""Browser journeys for the lifecycle actions: the confirmation dialog, in-place updates, roles."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from emulator.testing import EmulatorControl, EmulatorControlError
from streams.models import AuditEntry
from tests.e2e.conftest import assert_no_axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

NAME = "Main stage"


def live_stream(emulator: EmulatorControl, **fields: Any) -> str:
    stream = emulator.create_stream(status="active", views=214, metadata={"livestream_name": NAME}, **fields)
    return str(stream["streamId"])


def mutations(emulator: EmulatorControl) -> list[dict[str, Any]]:
    return [entry for entry in emulator.requests() if entry["method"] in {"POST", "PUT", "PATCH", "DELETE"}]


def test_a_producer_finishes_an_active_stream_through_the_dialog(
    page: Page, live_server: Any, sign_in: Callable[[str], Any], emulator: EmulatorControl
) -> None:
    stream_id = live_stream(emulator)
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    expect(page.locator("#live-preview iframe")).to_have_count(1)
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Finish broadcast").click()
    dialog = page.get_by_role("dialog", name="Finish the broadcast of Main stage?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(
        "Ends the broadcast of Main stage now (214 viewers) and finalises the recording."
    )
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()

    dialog.get_by_role("button", name="Finish broadcast").dblclick()

    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text(f"Finished the broadcast of “{NAME}”.")
    expect(page.locator("#stream-status")).to_have_text("Idle")
    expect(page.get_by_role("link", name="Finish broadcast")).to_have_count(0)
    expect(page.locator("#live-preview iframe")).to_have_count(0)  # nothing live to preview any more
    assert page.evaluate("window.notReloaded") is True  # updated in place, no full reload
    state = emulator.stream_state(stream_id)["stream"]
    assert state["status"] == "idle"
    assert len(state["mediaIds"]) == 1  # the broadcast's recording
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1  # the double click sent one
    # The recordings section reloads by itself and lists the new recording.
    expect(page.locator("#recording-rows")).not_to_contain_text("No recordings yet", timeout=10_000)
    expect(page.locator("#recording-rows").get_by_role("row")).to_have_count(2)  # header + the recording


def test_cancel_and_escape_leave_the_stream_live(
    page: Page, live_server: Any, sign_in: Callable[[str], Any], emulator: EmulatorControl
) -> None:
    stream_id = live_stream(emulator)
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    dialog = page.get_by_role("dialog")

    page.get_by_role("link", name="Finish broadcast").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("link", name="Finish broadcast").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    expect(page.locator("#stream-status")).to_have_text("Live")
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"
    assert mutations(emulator) == []


def test_delete_needs_the_typed_name(
    page: Page, live_server: Any, sign_in: Callable[[str], Any], emulator: EmulatorControl
) -> None:
    stream_id = live_stream(emulator)
    sign_in("admin")  # lands on the list
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=NAME, exact=True))
    row.get_by_role("link", name="Delete").click()

    dialog = page.get_by_role("dialog", name="Delete Main stage?")
    expect(dialog).to_contain_text("It is live now with 214 viewers")
    delete = dialog.get_by_role("button", name="Delete stream")
    expect(delete).to_be_disabled()
    name_field = dialog.get_by_label("To confirm, type the stream's name")
    name_field.fill("Main stag")
    expect(delete).to_be_disabled()
    name_field.fill(NAME)
    expect(delete).to_be_enabled()
    delete.click()

    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text(f"Deleted “{NAME}”.")
    with pytest.raises(EmulatorControlError):
        emulator.stream_state(stream_id)


def test_a_reviewer_sees_no_action_buttons_and_a_forged_post_is_refused(
    page: Page, live_server: Any, sign_in: Callable[[str], Any], emulator: EmulatorControl
) -> None:
    stream_id = live_stream(emulator)
    sign_in("reviewer")
    actions = re.compile(r"^(Finish|Finish broadcast|Enable|Disable|Delete|Delete…)$")
    expect(page.get_by_role("link", name=NAME, exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=actions)).to_have_count(0)
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    expect(page.get_by_role("link", name=actions)).to_have_count(0)

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"{live_server.url}/streams/{stream_id}/finish/", headers={"X-CSRFToken": csrf}
    )
    assert response.status == 403
    assert "You can't do that here" in response.text()
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"
    assert mutations(emulator) == []
    assert AuditEntry.objects.get().outcome == "refused"


def test_the_open_dialog_passes_an_accessibility_check(
    page: Page, live_server: Any, sign_in: Callable[[str], Any], emulator: EmulatorControl
) -> None:
    stream_id = live_stream(emulator)
    sign_in("admin")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("dialog", name="Delete Main stage?")).to_be_visible()
    assert_no_axe_violations(page)
