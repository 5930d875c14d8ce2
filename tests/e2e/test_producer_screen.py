"""The producer's screen at the event: on a phone, with a keyboard, with long names, in the dark.

Issue 11, item 11: every page fits 390 px with Finish reachable; long names wrap; polls never take focus;
a pending action says what it is doing and cannot be dismissed; results appear in the viewport; the typed
delete ignores dash, space and case variants; the metadata editor stops at 10 rows; one time format;
dark mode; and without JavaScript the recordings section links instead of "Loading…" for ever.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Locator, Page, Response, expect

from emulator.testing import EmulatorControl, EmulatorControlError
from streams.models import AuditEntry
from tests.e2e.conftest import submit_sign_in

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LONG_NAME = "Keynote" + "x" * 248  # 255 characters, no break opportunity
TIME_TEXT = re.compile(r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}, \d{2}:\d{2}$")
RELATIVE = re.compile(
    r"^(just now|\d+ (minute|hour|day|month|year)s? ago|in \d+ (minute|hour|day|month|year)s?)$"
)


def sign_in_page(page: Page, live_server: Any, user: User) -> None:
    page.goto(f"{live_server.url}/login/")
    submit_sign_in(page, user.username)
    expect(page.get_by_role("heading", name="Live streams")).to_be_visible()


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def assert_fits(page: Page, width: int, where: str) -> None:
    page.wait_for_load_state("networkidle")
    assert page_width(page) <= width, f"{where} scrolls sideways: {page_width(page)} px wide at {width} px"


def assert_on_screen(locator: Locator, width: int) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width, f"{box} is off the right edge at {width} px"


def count_polls(page: Page, pattern: str) -> Callable[[], int]:
    """How many poll answers matching `pattern` the page has received so far."""
    seen: list[str] = []

    def on_response(response: Response) -> None:
        if re.search(pattern, response.url):
            seen.append(response.url)

    page.on("response", on_response)
    return lambda: len(seen)


def wait_for_polls(page: Page, polls: Callable[[], int], n: int) -> None:
    target = polls() + n
    for _ in range(200):
        if polls() >= target:
            page.wait_for_timeout(150)  # let the last answer's swap settle
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"only {polls()} polls, waited for {target}")


def tab_to(page: Page, text: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if text in (page.evaluate("document.activeElement ? document.activeElement.textContent : ''") or ""):
            return
    raise AssertionError(f"never reached {text!r} with Tab")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin")


# ---------------------------------------------------------------- 1, 2: phone width and long names


def test_at_phone_width_no_page_scrolls_sideways_and_every_finish_is_on_screen(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    active = []
    for n in range(12):
        if n % 4 == 0:
            stream = emulator.create_stream(
                status="active", views=100 + n, metadata={"livestream_name": f"Hall {n} main stage"}
            )
            active.append(stream["streamId"])
        else:
            stream = emulator.create_stream(metadata={"livestream_name": f"Breakout room {n}"})
    emulator.create_media(active[0], status="Ready")
    idle = stream["streamId"]
    AuditEntry.objects.create(username="admin-user", action="finish", stream_id=active[0], outcome="done")
    sign_in_page(page, live_server, admin)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/streams/?size=25")
    assert_fits(page, 390, "the list")
    finishes = page.get_by_role("link", name=re.compile(r"^Finish "))
    expect(finishes).to_have_count(len(active))
    for i in range(len(active)):
        assert_on_screen(finishes.nth(i), 390)
        finishes.nth(i).click(trial=True)  # visible, enabled and not covered by anything
    finishes.first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert_on_screen(dialog.get_by_role("button", name="Finish broadcast"), 390)
    page.keyboard.press("Escape")

    for path in (
        f"/streams/{active[0]}/",
        f"/streams/{active[0]}/recordings/",
        "/recordings/",
        "/audit/",
        "/streams/new/",
        f"/streams/{idle}/edit/",
        f"/streams/{active[0]}/finish/",
    ):
        page.goto(live_server.url + path)
        assert_fits(page, 390, path)


def test_a_255_character_name_wraps_on_every_page_and_keeps_status_viewers_and_finish_on_screen(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    assert len(LONG_NAME) == 255
    stream = emulator.create_stream(status="active", views=77, metadata={"livestream_name": LONG_NAME})
    stream_id = stream["streamId"]
    emulator.create_stream(metadata={"livestream_name": "Side room"})
    emulator.create_media(stream_id, status="Ready")
    AuditEntry.objects.create(
        username="admin-user",
        action="edit",
        stream_id=stream_id,
        stream_name=LONG_NAME,
        outcome="done",
        message=f"Renamed to {LONG_NAME}",
        before={"metadata": {"livestream_name": "Old"}},
        after={"metadata": {"livestream_name": LONG_NAME}},
    )
    sign_in_page(page, live_server, admin)

    for viewport in (DESKTOP, PHONE):
        width = viewport["width"]
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/streams/")
        assert_fits(page, width, f"the list at {width}")
        for cell in (f"#status-{stream_id}", f"#viewers-{stream_id}", f"#actions-{stream_id} a >> nth=0"):
            assert_on_screen(page.locator(cell), width)
        expect(
            page.locator(f"#actions-{stream_id}").get_by_role("link", name=re.compile("^Finish"))
        ).to_be_visible()

        for action in ("finish", "delete"):
            page.locator(f"#actions-{stream_id}").get_by_role(
                "link", name=re.compile(f"^{action}", re.I)
            ).click()
            dialog = page.get_by_role("dialog")
            expect(dialog).to_be_visible()
            assert_fits(page, width, f"the {action} dialog at {width}")
            box = dialog.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= width
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()

        for path in (
            f"/streams/{stream_id}/",
            f"/streams/{stream_id}/recordings/",
            f"/streams/{stream_id}/edit/",
            f"/streams/{stream_id}/delete/",
            "/recordings/",
            "/audit/",
        ):
            page.goto(live_server.url + path)
            assert_fits(page, width, f"{path} at {width}")
        page.goto(f"{live_server.url}/streams/{stream_id}/")
        for element in ("#stream-status", "#stream-viewers", "#stream-actions a >> nth=0"):
            assert_on_screen(page.locator(element), width)


# ---------------------------------------------------------------- 3: polls leave focus alone


def test_list_polls_never_take_focus_from_a_finish_button_even_when_other_rows_change(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    settings.LIST_SHARE_SECONDS = 0.5
    coming = emulator.create_stream(metadata={"livestream_name": "Coming up"})["streamId"]
    leaving = emulator.create_stream(status="active", views=5, metadata={"livestream_name": "Leaving"})[
        "streamId"
    ]
    emulator.create_stream(status="active", views=9, metadata={"livestream_name": "Main stage"})
    sign_in_page(page, live_server, admin)
    polls = count_polls(page, r"/streams/live/")

    tab_to(page, "Finish Main stage")
    page.evaluate("window.focusedButton = document.activeElement")
    wait_for_polls(page, polls, 3)
    assert page.evaluate("document.activeElement === window.focusedButton")
    assert page.evaluate("document.activeElement.textContent").startswith("Finish")

    emulator.connect(coming)
    emulator.go_live(coming)
    emulator.disconnect(leaving, expire=True)
    expect(page.locator(f"#status-{coming}")).to_have_text("Live", timeout=10_000)
    expect(page.locator(f"#status-{leaving}")).not_to_have_text("Live", timeout=10_000)
    wait_for_polls(page, polls, 1)
    assert page.evaluate("document.activeElement === window.focusedButton")
    page.keyboard.press("Enter")  # still the same, working button
    expect(page.get_by_role("dialog", name="Finish the broadcast of Main stage?")).to_be_visible()


def test_stream_page_polls_never_take_focus_from_the_finish_button(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    stream_id = emulator.create_stream(status="active", views=9, metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    sign_in_page(page, live_server, admin)
    polls = count_polls(page, rf"/streams/{stream_id}/live/")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    tab_to(page, "Finish broadcast")
    page.evaluate("window.focusedButton = document.activeElement")
    emulator.set_viewers(stream_id, 321)
    wait_for_polls(page, polls, 3)
    expect(page.locator("#stream-viewers")).to_have_text("321")  # the polls did change the page
    assert page.evaluate("document.activeElement === window.focusedButton")
    assert page.evaluate("document.activeElement.textContent") == "Finish broadcast"


# ---------------------------------------------------------------- 4: a pending action


def test_a_pending_finish_says_finishing_and_the_dialog_stays_until_the_answer(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User, settings: Any
) -> None:
    settings.FASTPIX_TIMEOUT = 5
    stream_id = emulator.create_stream(status="active", views=9, metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    emulator.add_fault(r"/finish$", method="PUT", latency_ms=1500, times=1)
    sign_in_page(page, live_server, admin)
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    page.get_by_role("link", name="Finish broadcast").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Finish broadcast").click()

    pending = dialog.get_by_role("button", name="Finishing…")
    expect(pending).to_be_visible()
    expect(pending).to_be_disabled()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_disabled()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")  # Chrome lets a second Escape through a refused cancel
    expect(dialog).to_be_visible()
    expect(pending).to_be_visible()

    expect(dialog).to_be_hidden(timeout=10_000)
    expect(page.get_by_role("status")).to_contain_text("Finished the broadcast of “Main stage”")
    expect(page.locator("#stream-status")).to_have_text("Idle")
    assert emulator.stream_state(stream_id)["stream"]["status"] == "idle"


def test_each_action_button_names_its_pending_state(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    live = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})["streamId"]
    off = emulator.create_stream(status="disabled", metadata={"livestream_name": "Old"})["streamId"]
    sign_in_page(page, live_server, admin)
    for stream_id, action, label in (
        (live, "finish", "Finishing…"),
        (live, "disable", "Disabling…"),
        (off, "enable", "Enabling…"),
        (live, "delete", "Deleting…"),
    ):
        page.goto(f"{live_server.url}/streams/{stream_id}/{action}/")
        expect(page.locator("button[data-confirm-submit]")).to_have_attribute("data-pending-label", label)


# ---------------------------------------------------------------- 5: results where the user is looking


def test_finishing_the_last_of_fifty_rows_shows_the_result_in_the_viewport(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    last = emulator.create_stream(status="active", views=3, metadata={"livestream_name": "Oldest stage"})
    for n in range(49):
        emulator.create_stream(metadata={"livestream_name": f"Room {n:02d}"})
    sign_in_page(page, live_server, admin)
    page.goto(f"{live_server.url}/streams/?size=50")
    expect(page.locator("#stream-table tbody tr")).to_have_count(50)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.get_by_role("link", name="Finish Oldest stage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Finish broadcast").click()
    expect(dialog).to_be_hidden()

    message = page.locator("#messages .message")
    expect(message).to_contain_text("Finished the broadcast of “Oldest stage”")
    expect(page.locator("#messages")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#messages #messages")).to_have_count(0)  # filled, not nested
    assert page.evaluate("window.scrollY") > 1000  # the page did not jump to the top
    box = message.bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert viewport is not None
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= viewport["height"], box
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= viewport["width"], box
    assert emulator.stream_state(last["streamId"])["stream"]["status"] == "idle"

    page.get_by_role("link", name="Dismiss messages").click()
    expect(message).to_have_count(0)
    expect(page.get_by_role("link", name="Dismiss messages")).to_be_hidden()


def test_a_failed_finish_is_an_alert_in_the_viewport(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    stream_id = emulator.create_stream(status="active", views=3, metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    emulator.add_fault(r"/finish$", method="PUT", status=409, times=None)
    sign_in_page(page, live_server, admin)
    page.set_viewport_size(PHONE)
    page.get_by_role("link", name="Finish Main stage").click()
    page.get_by_role("dialog").get_by_role("button", name="Finish broadcast").click()
    alert = page.locator("#messages").get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_be_in_viewport(ratio=1)
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"


# ---------------------------------------------------------------- 6: typed delete


def test_typed_delete_shows_the_id_and_ignores_dash_space_and_case_variants(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    stream_id = emulator.create_stream(metadata={"livestream_name": "Main stage — Day 1"})["streamId"]
    sign_in_page(page, live_server, admin)
    page.get_by_role("link", name="Delete Main stage — Day 1").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("label code")).to_have_text(stream_id)
    field = dialog.get_by_role("textbox")
    delete = dialog.get_by_role("button", name="Delete stream")
    for typed, accepted in (
        ("main stage - day 1 ", True),
        ("Main  stage \u2013 DAY 1", True),
        ("Main stage \uff0d Day 1", True),
        ("Main stage - Day 2", False),
        ("Main stage Day 1", False),
        (f" {stream_id.upper()} ", True),
    ):
        field.fill(typed)
        if accepted:
            expect(delete).to_be_enabled()
        else:
            expect(delete).to_be_disabled()

    field.fill("main stage - day 1 ")  # and the server agrees (streams/policy.py normalize_confirmation)
    delete.click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Deleted “Main stage — Day 1”.")
    with pytest.raises(EmulatorControlError):
        emulator.stream_state(stream_id)


# ---------------------------------------------------------------- 7: the metadata editor's limit


def test_the_metadata_editor_stops_at_ten_rows_and_says_why(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    metadata = {"livestream_name": "Main stage", **{f"k{n}": str(n) for n in range(7)}}
    stream_id = emulator.create_stream(metadata=metadata)["streamId"]
    sign_in_page(page, live_server, admin)
    page.goto(f"{live_server.url}/streams/{stream_id}/edit/")
    rows = page.locator(".meta-row")
    expect(rows).to_have_count(9)
    page.get_by_role("button", name="Add a row").click()
    expect(rows).to_have_count(10)
    expect(page.get_by_role("button", name="Add a row")).to_have_count(0)
    expect(page.locator("#settings-card")).to_contain_text("FastPix keeps at most 10 metadata entries")

    page.goto(f"{live_server.url}/streams/new/")
    expect(rows).to_have_count(2)
    for count in range(3, 10):
        page.get_by_role("button", name="Add a row").click()
        expect(rows).to_have_count(count)
    expect(page.get_by_role("button", name="Add a row")).to_have_count(0)
    expect(page.locator("main form")).to_contain_text(
        "FastPix keeps at most 10 metadata entries (the name counts as one)"
    )


def test_the_too_many_entries_error_sits_by_the_rows_is_linked_to_them_and_gets_focus(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    metadata = {"livestream_name": "Main stage", **{f"k{n}": str(n) for n in range(9)}}
    stream_id = emulator.create_stream(metadata=metadata)["streamId"]
    sign_in_page(page, live_server, admin)
    page.set_viewport_size({"width": 1280, "height": 600})
    page.goto(f"{live_server.url}/streams/{stream_id}/edit/")
    expect(page.locator(".meta-row")).to_have_count(10)
    # An eleventh row, as an old tab or a crafted post would send it.
    page.evaluate(
        """() => {
        const rows = document.querySelector('.meta-rows');
        const copy = rows.lastElementChild.cloneNode(true);
        copy.querySelectorAll('input').forEach((input) => {
          input.name = input.name.replace('-9-', '-10-'); input.id = input.id.replace('-9-', '-10-');
          if (input.type === 'text') input.value = input.name.endsWith('key') ? 'extra' : 'x';
        });
        rows.appendChild(copy);
        document.querySelector('[name="meta-TOTAL_FORMS"]').value = '11';
      }"""
    )
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("button", name="Save").click()

    error = page.get_by_text("FastPix keeps at most 10 metadata entries; this has 11.")
    expect(error).to_be_visible()
    container = page.locator("#meta-errors")
    expect(container).to_be_focused()
    expect(container).to_be_in_viewport()
    described = page.locator("fieldset.metadata").get_attribute("aria-describedby") or ""
    assert "meta-errors" in described.split()
    # Next to the rows: right after the last one.
    assert page.evaluate(
        "document.querySelector('.meta-rows').nextElementSibling === document.getElementById('meta-errors')"
    )
    assert emulator.stream_state(stream_id)["stream"]["metadata"] == metadata


# ---------------------------------------------------------------- 8: one time format


@pytest.fixture
def kolkata_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(timezone_id="Asia/Kolkata")
    page = context.new_page()
    yield page
    context.close()


def test_every_time_shows_one_local_format_with_the_relative_time_on_hover(
    kolkata_page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    page = kolkata_page
    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    media = emulator.create_media(stream_id, status="Ready")
    AuditEntry.objects.create(username="admin-user", action="finish", stream_id=stream_id, outcome="done")
    sign_in_page(page, live_server, admin)
    for path in (
        "/streams/",
        f"/streams/{stream_id}/",
        f"/streams/{stream_id}/recordings/",
        "/recordings/",
        f"/recordings/{media['id']}/",
        "/audit/",
    ):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        times = page.locator("time").all()
        assert times, f"no <time> on {path}"
        for element in times:
            text = element.inner_text()
            assert TIME_TEXT.match(text), f"{path}: {text!r}"
            assert RELATIVE.match(element.get_attribute("title") or ""), (
                f"{path}: {element.get_attribute('title')!r}"
            )
            when = datetime.fromisoformat(element.get_attribute("datetime") or "")
            local = when.astimezone(ZoneInfo("Asia/Kolkata"))
            assert text == f"{local.day} {local:%b %Y, %H:%M}", f"{path}: {text!r} is not {local} local"


def test_the_server_writes_times_in_the_format_the_browser_does(
    browser: Browser, live_server: Any, emulator: EmulatorControl, admin: User, settings: Any
) -> None:
    settings.TIME_ZONE = "UTC"
    emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})
    AuditEntry.objects.create(username="admin-user", action="finish", outcome="done")
    texts = {}
    for javascript in (False, True):
        context = browser.new_context(java_script_enabled=javascript, timezone_id="UTC")
        page = context.new_page()
        sign_in_page(page, live_server, admin)
        page.goto(f"{live_server.url}/audit/")
        texts[javascript] = [(t.inner_text(), t.get_attribute("title")) for t in page.locator("time").all()]
        context.close()
    assert texts[False] == texts[True]
    assert texts[False]
    assert TIME_TEXT.match(texts[False][0][0])
    assert texts[False][0][1] == "just now"


# ---------------------------------------------------------------- 9: dark mode


def test_dark_mode_is_dark_and_every_text_keeps_its_contrast(
    browser: Browser, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    live = emulator.create_stream(status="active", views=214, metadata={"livestream_name": "Main stage"})
    emulator.create_stream(status="disabled", metadata={"livestream_name": "Old stream"})
    emulator.create_stream(status="preparing", metadata={"livestream_name": "Warming up"})
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.route(
        "https://play.fastpix.com/**",
        lambda route: route.fulfill(body="<title>player</title>", content_type="text/html"),
    )
    try:
        sign_in_page(page, live_server, admin)
        for path in ("/streams/", f"/streams/{live['streamId']}/", f"/streams/{live['streamId']}/disable/"):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            background = page.evaluate("getComputedStyle(document.body).backgroundColor")
            red, green, blue = (int(c) for c in re.findall(r"\d+", background)[:3])
            assert max(red, green, blue) < 60, f"{path}: body background {background} is not dark"
            violations = Axe().run(page).response["violations"]
            assert [v for v in violations if v["id"] == "color-contrast"] == [], path
    finally:
        context.close()


# ---------------------------------------------------------------- 11: recordings without JavaScript


def test_without_javascript_the_recordings_section_links_to_the_recordings_page(
    plain_page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    page = plain_page
    stream_id = emulator.create_stream(metadata={"livestream_name": "Main stage"})["streamId"]
    emulator.create_media(stream_id, status="Ready")
    sign_in_page(page, live_server, admin)
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    section = page.locator("#stream-recordings")
    for text in ("Loading 1 recording…", "Loading live clips…"):
        expect(section.get_by_text(text)).to_be_hidden()
    expect(section.get_by_role("link", name="Show the clips")).to_be_visible()
    section.locator("#recording-rows").get_by_role("link").click()
    expect(page.get_by_role("heading", name="Recordings of Main stage")).to_be_visible()
    expect(page.locator("#recording-rows").get_by_role("row")).to_have_count(2)


def test_with_javascript_the_recordings_section_loads_in_place(
    page: Page, live_server: Any, emulator: EmulatorControl, admin: User
) -> None:
    stream_id = emulator.create_stream(metadata={"livestream_name": "Main stage"})["streamId"]
    media_id = emulator.create_media(stream_id, status="Ready")["id"]
    # The recording itself is slow (not the clips, which load beside it): "Loading" shows meanwhile.
    emulator.add_fault(f"/on-demand/{media_id}$", method="GET", latency_ms=1500, times=1)
    sign_in_page(page, live_server, admin)
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    expect(page.locator("#recording-rows").get_by_text("Loading")).to_be_visible()
    expect(page.locator("#recording-rows").get_by_role("row")).to_have_count(2, timeout=10_000)
    expect(page.locator("#stream-recordings").get_by_text("Loading")).to_have_count(0)
