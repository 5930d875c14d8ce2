"""Browser journeys on the control wall: the keyboard (j, k, Enter, f, ?) and when it must stay quiet, a
drop's countdown appearing without a reload, a phone-width wall, and an accessibility check.

The test stands in for the worker: it puts the emulator's streams into the mirror with `mirror.observe`,
their counts with `mirror.record_viewers`, their lights as `Readiness` rows, and marks the worker's runs,
so the wall's poll has only the database to read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import Readiness, WorkerRun
from streams.workspace import mirror
from tests.e2e.conftest import assert_no_axe_violations, submit_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def worker_ran() -> None:
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def live(emulator: EmulatorControl, name: str, views: int) -> str:
    stream_id: str = emulator.create_stream(status="active", views=views, metadata={"livestream_name": name})[
        "streamId"
    ]
    mirror.observe(get_client().get_stream(stream_id), timezone.now())
    mirror.record_viewers({stream_id: views}, timezone.now())
    now = timezone.now()
    Readiness.objects.create(
        stream_id=stream_id,
        encoder="on",
        encoder_changed_at=now,
        live="on",
        live_changed_at=now,
        playable="on",
        playable_changed_at=now,
    )
    return stream_id


@pytest.fixture
def three(emulator: EmulatorControl) -> list[str]:
    """Three healthy live streams: the wall orders them by audience."""
    ids = [
        live(emulator, "Main hall", 300),
        live(emulator, "Second room", 200),
        live(emulator, "Garden", 100),
    ]
    worker_ran()
    return ids


def open_wall(page: Page, live_server: Any, sign_in: Any, role: str = "producer") -> None:
    sign_in(role)
    page.goto(f"{live_server.url}/wall/")
    expect(page.get_by_role("heading", name="Control wall", level=1)).to_be_visible()
    # wall.js has run (it shows the shortcuts button, hidden without JavaScript).
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_visible()


def to_second_tile(page: Page) -> None:
    """j twice: from the page to the first tile, then to the second (Second room, of `three`)."""
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.get_by_role("link", name="Second room", exact=True)).to_be_focused()


def test_j_and_k_move_between_tiles_and_f_opens_that_streams_finish_dialog(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    for key, name in (
        ("j", "Main hall"),
        ("j", "Second room"),
        ("j", "Garden"),
        ("j", "Garden"),
        ("k", "Second room"),
    ):
        page.keyboard.press(key)
        expect(page.get_by_role("link", name=name, exact=True)).to_be_focused()
    page.keyboard.press("f")
    dialog = page.get_by_role("dialog", name="Finish the broadcast of Second room?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_enter_opens_the_focused_stream(page: Page, live_server: Any, sign_in: Any, three: list[str]) -> None:
    open_wall(page, live_server, sign_in)
    to_second_tile(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/streams/{three[1]}/$"))
    expect(page.get_by_role("heading", name="Second room", level=1)).to_be_visible()


def test_focus_stays_on_its_tile_while_the_wall_refreshes_and_reorders(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    to_second_tile(page)
    mirror.record_viewers({three[1]: 5000}, timezone.now())  # now the biggest audience: it moves first
    worker_ran()
    first = page.locator("[data-tile]").first
    expect(first).to_have_id(f"tile-{three[1]}", timeout=3000)
    expect(first.locator(".tile-number")).to_have_text("5000")
    expect(page.get_by_role("link", name="Second room", exact=True)).to_be_focused()


def test_shortcuts_stay_quiet_while_typing_or_while_a_dialog_is_open(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    # A field (the wall has none of its own; a browser extension or a later search box might add one).
    page.evaluate(
        "() => { const i = document.createElement('input'); i.id = 'typing'; i.setAttribute('aria-label', 'Note');"
        " document.getElementById('main').prepend(i); }"
    )
    field = page.get_by_label("Note")
    field.focus()
    page.keyboard.type("jkf?")
    expect(field).to_have_value("jkf?")
    expect(field).to_be_focused()
    expect(page.locator("dialog[open]")).to_have_count(0)

    page.keyboard.press("j")  # on a tile again? No: still typing
    expect(field).to_have_value("jkf?j")
    expect(field).to_be_focused()
    page.get_by_role("link", name="Main hall", exact=True).focus()
    page.keyboard.press("?")
    keys = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(keys).to_be_visible()
    page.keyboard.press("f")  # no Finish dialog on top of the open one
    page.keyboard.press("j")
    expect(page.locator("dialog[open]")).to_have_count(1)
    expect(page.get_by_role("link", name="Second room", exact=True)).not_to_be_focused()
    # Modifier keys are the browser's and the screen reader's, never a shortcut.
    page.keyboard.press("Escape")
    expect(keys).to_be_hidden()
    page.get_by_role("link", name="Main hall", exact=True).focus()
    page.keyboard.press("Control+j")
    page.keyboard.press("Alt+f")
    expect(page.get_by_role("link", name="Main hall", exact=True)).to_be_focused()
    expect(page.locator("dialog[open]")).to_have_count(0)


def test_when_the_focused_tile_leaves_the_wall_focus_goes_to_the_tile_in_its_place(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    to_second_tile(page)
    mirror.forget(three[1], timezone.now())  # its broadcast ended elsewhere: the next refresh drops the tile
    worker_ran()
    expect(page.locator("[data-tile]")).to_have_count(2, timeout=3000)
    expect(page.get_by_role("link", name="Garden", exact=True)).to_be_focused()
    page.keyboard.press("k")  # and the keys go on from there
    expect(page.get_by_role("link", name="Main hall", exact=True)).to_be_focused()


def test_a_failed_refresh_says_the_wall_is_not_updating_until_a_retry_succeeds(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    trouble = page.locator("#poll-trouble")
    expect(trouble).to_be_hidden()
    page.route(re.compile(r"/wall/\?v="), lambda route: route.abort())  # the console cannot be reached
    expect(trouble).to_be_visible(timeout=3000)
    expect(trouble).to_have_text(
        re.compile(r"^Not updating since \d\d:\d\d:\d\d: the console did not answer")
    )
    page.unroute(re.compile(r"/wall/\?v="))
    mirror.record_viewers({three[2]: 9000}, timezone.now())  # what the retry must bring
    worker_ran()
    expect(trouble).to_be_hidden(timeout=15000)  # the first retry comes 10 s after the failure
    expect(page.locator("[data-tile]").first).to_have_id(f"tile-{three[2]}")


def test_question_mark_lists_the_keys(page: Page, live_server: Any, sign_in: Any, three: list[str]) -> None:
    open_wall(page, live_server, sign_in)
    page.keyboard.press("?")
    keys = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(keys).to_be_visible()
    for what in (
        "Next stream",
        "Previous stream",
        "Open the stream",
        "Finish the stream's broadcast",
        "This list",
    ):
        expect(keys).to_contain_text(what)
    assert_no_axe_violations(page)
    keys.get_by_role("button", name="Close").click()
    expect(keys).to_be_hidden()


def test_a_drop_shows_its_countdown_on_the_open_wall_within_two_seconds(
    page: Page, live_server: Any, sign_in: Any, emulator: EmulatorControl, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in)
    expect(page.get_by_role("alert")).to_have_count(0)
    emulator.disconnect(three[2])
    mirror.observe(get_client().get_stream(three[2]), timezone.now(), encoder="disconnected")
    worker_ran()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Garden dropped: reconnect within", timeout=2000)
    expect(alert).to_contain_text("or FastPix ends the broadcast")
    tile = page.locator("[data-tile]").first
    expect(tile).to_have_id(f"tile-{three[2]}")  # problems first
    countdown = tile.get_by_role("timer")
    expect(countdown).to_have_text(re.compile(r"^[01]:\d\d$"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=2500)  # it ticks in the browser
    expect(page).to_have_title(re.compile(r"^⚠ Dropped — Wall"))  # app.js, as on a stream's page
    assert_no_axe_violations(page)
    # The encoder comes back within the window: the banner, the countdown and the title clear.
    emulator.connect(three[2])
    mirror.observe(get_client().get_stream(three[2]), timezone.now(), encoder="connected")
    expect(page.get_by_role("alert")).to_have_count(0, timeout=2000)
    expect(page.locator(f"#tile-{three[2]}").get_by_role("timer")).to_have_count(0)
    expect(page).not_to_have_title(re.compile(r"^⚠"))


def test_a_phone_width_wall_has_no_sideways_scroll(
    page: Page, live_server: Any, sign_in: Any, emulator: EmulatorControl, three: list[str]
) -> None:
    live(emulator, "A-very-long-stream-name-without-any-space-" * 4, 42)
    worker_ran()
    page.set_viewport_size({"width": 390, "height": 844})
    open_wall(page, live_server, sign_in)
    tiles = page.locator("[data-tile]")
    expect(tiles).to_have_count(4)
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    boxes = [tiles.nth(i).bounding_box() for i in range(2)]
    assert boxes[0] is not None
    assert boxes[1] is not None
    assert boxes[1]["y"] > boxes[0]["y"]  # one column
    assert boxes[0]["x"] == boxes[1]["x"]
    expect(tiles.first.get_by_role("link", name=re.compile("Finish"))).to_be_in_viewport()


def test_the_wall_is_dark_by_default_and_passes_an_accessibility_check(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    page.emulate_media(color_scheme="light")
    open_wall(page, live_server, sign_in)
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 22, 27)"  # --bg of the dark theme, though the system asks for light
    assert_no_axe_violations(page)


def test_a_reviewer_gets_the_wall_with_no_finish_and_f_does_nothing(
    page: Page, live_server: Any, sign_in: Any, three: list[str]
) -> None:
    open_wall(page, live_server, sign_in, role="reviewer")
    expect(page.get_by_role("link", name=re.compile("^Finish"))).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("f")
    page.wait_for_timeout(500)  # time enough for a dialog's fragment to arrive, were one asked for
    expect(page.locator("dialog[open]")).to_have_count(0)
    expect(page.get_by_role("link", name="Main hall", exact=True)).to_be_focused()


def test_without_javascript_the_wall_is_links_and_finish_is_a_confirmation_page(
    plain_page: Page, live_server: Any, make_user: Any, three: list[str]
) -> None:
    page = plain_page
    user = make_user("producer")
    page.goto(f"{live_server.url}/wall/")
    submit_sign_in(page, user.username)
    expect(page.get_by_role("heading", name="Control wall", level=1)).to_be_visible()
    expect(page.locator("[data-tile]")).to_have_count(3)
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_hidden()
    page.get_by_role("link", name="Finish Second room").click()
    expect(page.get_by_role("heading", name="Finish the broadcast of Second room?")).to_be_visible()
    page.get_by_role("button", name="Finish broadcast").click()
    # Back on the wall, which says what happened and no longer shows the finished stream.
    expect(page.get_by_role("heading", name="Control wall", level=1)).to_be_visible()
    expect(page.get_by_text("Finished the broadcast of “Second room”")).to_be_visible()
    expect(page.locator("[data-tile]")).to_have_count(2)
