"""Every page works without JavaScript: plain links and forms, the server does the rest."""

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import submit_sign_in


def test_a_producer_without_javascript_pages_opens_reveals_and_finishes(
    plain_page: Page, live_server: Any, make_user: Any, emulator: Any
) -> None:
    page = plain_page
    for n in range(1, 13):
        emulator.create_stream(metadata={"livestream_name": f"Stream {n:02d}"})
    live = emulator.create_stream(status="active", views=42, metadata={"livestream_name": "Main stage"})
    user = make_user("producer")

    page.goto(f"{live_server.url}/streams/")
    submit_sign_in(page, user.username)
    expect(page.get_by_role("heading", name="Live streams")).to_be_visible()

    page.get_by_role("link", name="Next").click()
    expect(page.locator("#stream-table tbody tr").first).to_contain_text("Stream 03")
    page.get_by_role("link", name="Previous").click()

    page.get_by_role("link", name="Main stage", exact=True).click()
    expect(page.locator("#stream-viewers")).to_have_text("42")
    page.get_by_role("button", name="Reveal stream key").click()
    expect(page.locator("#secret-stream_key")).to_have_text(live["streamKey"])

    page.get_by_role("link", name="Finish broadcast").click()  # the confirmation is a page of its own
    expect(page.get_by_text("Ends the broadcast of")).to_be_visible()
    page.get_by_role("button", name="Finish broadcast").click()
    expect(page.get_by_text("Finished the broadcast of “Main stage”")).to_be_visible()
    assert emulator.stream_state(live["streamId"])["stream"]["status"] == "idle"


def test_an_admin_without_javascript_edits_with_an_added_row(
    plain_page: Page, live_server: Any, make_user: Any, emulator: Any
) -> None:
    page = plain_page
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage", "a": "1"})
    user = make_user("admin")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/edit/")
    submit_sign_in(page, user.username)
    page.get_by_label("Key 3").fill("b")
    page.get_by_label("Value 3").fill("2")
    page.get_by_role("button", name="Add a row").click()
    expect(page.get_by_label("Key 3")).to_have_value("b")  # kept while adding a row
    page.get_by_label("Key 4").fill("c")
    page.get_by_label("Value 4").fill("3")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. FastPix has the new metadata and reconnect window.")).to_be_visible()
    metadata = emulator.stream_state(stream["streamId"])["stream"]["metadata"]
    assert metadata == {"livestream_name": "Main stage", "a": "1", "b": "2", "c": "3"}
