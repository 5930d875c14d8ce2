"""Browser journeys through the streams console."""

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_axe_violations


def test_paging_through_sixty_streams_and_back_with_the_back_button(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    for n in range(1, 61):
        emulator.create_stream(metadata={"livestream_name": f"Stream {n:02d}"})
    sign_in("reviewer")
    rows = page.locator("#stream-table tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.first).to_contain_text("Stream 60")  # newest first

    page.get_by_role("link", name="Page 3").click()
    expect(rows.first).to_contain_text("Stream 40")
    assert page.url.endswith("/streams/?page=3&size=10&order=newest")
    page.get_by_role("link", name="Next").click()
    expect(rows.first).to_contain_text("Stream 30")

    page.go_back()
    expect(rows.first).to_contain_text("Stream 40")
    page.go_back()
    expect(rows.first).to_contain_text("Stream 60")

    page.get_by_label("Rows per page").select_option("50")
    expect(rows).to_have_count(50)
    assert "size=50" in page.url
    page.reload()
    expect(rows).to_have_count(50)
    assert_no_axe_violations(page)


def test_a_viewer_count_changes_on_screen_after_the_emulator_changes_it(
    page: Page, sign_in: Any, emulator: Any, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    settings.VIEWER_COUNT_TTL = 0.5
    stream = emulator.create_stream(status="active", views=100, metadata={"livestream_name": "Main stage"})
    sign_in("producer")
    viewers = page.locator(f"#viewers-{stream['streamId']}")
    expect(viewers).to_have_text("100")
    emulator.set_viewers(stream["streamId"], 250)
    expect(viewers).to_have_text("250", timeout=10_000)


def test_editing_metadata_saves_it_in_fastpix(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"}, reconnectWindow=60)
    sign_in("admin")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Reconnect window (seconds)").fill("300")
    page.get_by_label("Key 2").fill("room")
    page.get_by_label("Value 2").fill("Hall B")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved. FastPix has the new metadata")).to_be_visible()
    saved = emulator.stream_state(stream["streamId"])["stream"]
    assert saved["metadata"] == {"livestream_name": "Main stage", "room": "Hall B"}
    assert saved["reconnectWindow"] == 300


def test_a_conflicting_edit_shows_both_versions_and_keeps_what_was_typed(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    sign_in("admin")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/edit/")
    page.get_by_label("Value 1").fill("Mine")
    from streams.client import get_client

    get_client().update_stream(
        stream["streamId"], metadata={"livestream_name": "Theirs"}, reconnect_window=60
    )
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("heading", name="Someone changed this stream while you were editing")
    ).to_be_visible()
    expect(page.get_by_text("Theirs", exact=True)).to_be_visible()
    expect(page.get_by_label("Value 1")).to_have_value("Mine")
    page.get_by_role("button", name="Save mine anyway").click()
    expect(page.get_by_text("Saved. FastPix has the new metadata and reconnect window.")).to_be_visible()
    assert emulator.stream_state(stream["streamId"])["stream"]["metadata"] == {"livestream_name": "Mine"}


def test_creating_a_stream_lands_on_its_page(page: Page, sign_in: Any, emulator: Any) -> None:
    sign_in("admin")
    page.get_by_role("link", name="New stream").first.click()
    page.get_by_label("Name").fill("Keynote — Hall B")
    page.get_by_label("Maximum resolution").select_option("720p")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Create stream").click()
    expect(page.get_by_role("heading", name="Keynote — Hall B")).to_be_visible()
    expect(page.get_by_text("Created “Keynote — Hall B”")).to_be_visible()
    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 1


def test_a_reviewer_sees_masked_secrets_and_no_reveal_or_edit(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    stream = emulator.create_stream(status="active", views=3, metadata={"livestream_name": "Main stage"})
    sign_in("reviewer")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    card = page.locator("#connection-card")
    expect(card.get_by_label("hidden")).to_have_count(2)
    expect(page.get_by_role("button", name="Reveal")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    assert stream["streamKey"] not in page.content()
    assert_no_axe_violations(page)


def test_a_producer_reveals_and_copies_the_stream_key(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    assert stream["streamKey"] not in page.content()
    page.get_by_role("button", name="Reveal stream key").click()
    expect(page.locator("#secret-stream_key")).to_have_text(stream["streamKey"])
    expect(page.locator("#connection-card").get_by_label("hidden")).to_have_count(
        1
    )  # the SRT secret stays hidden


def test_after_paging_the_polls_keep_the_page_the_user_is_on(
    page: Page, sign_in: Any, emulator: Any, settings: Any
) -> None:
    # Paging swaps the table in place; the poll that follows must refresh that page, not the first one.
    settings.LIVE_POLL_SECONDS = 1
    settings.LIST_SHARE_SECONDS = 0
    for n in range(1, 31):
        emulator.create_stream(metadata={"livestream_name": f"Stream {n:02d}"})
    sign_in("reviewer")
    rows = page.locator("#stream-table tbody tr")
    page.get_by_role("link", name="Page 3").click()
    expect(rows.first).to_contain_text("Stream 10")
    with page.expect_response(lambda r: "/streams/live/" in r.url and "page=3" in r.url, timeout=5_000):
        pass
    page.wait_for_timeout(2_500)  # two more polls
    expect(rows.first).to_contain_text("Stream 10")
    expect(page.locator("#stream-table [aria-current=page]")).to_have_text("3")
