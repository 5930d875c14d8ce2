"""Browser journeys through the list's search, from the console's mirror."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from emulator.testing import EmulatorControl
from tests.e2e.conftest import assert_no_axe_violations, submit_sign_in
from tests.test_stream_search import mirror_workspace, sampler_ran

TARGET = "Harbour cam — north pier"


def seed(emulator: EmulatorControl, count: int) -> None:
    """`count` streams a second apart, the first (the oldest) named TARGET: last in the default order."""
    start = timezone.now() - timedelta(hours=2)
    for n in range(count):
        name = TARGET if n == 0 else f"Stream {n:03d}"
        emulator.create_stream(
            metadata={"livestream_name": name}, createdAt=(start + timedelta(seconds=n)).isoformat()
        )
    mirror_workspace()
    sampler_ran()


def test_a_stream_on_page_forty_is_found_by_typing_part_of_its_name(
    page: Page, sign_in: Any, emulator: EmulatorControl, live_server: Any, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    settings.VIEWER_COUNT_TTL = 60  # the sampler counts as current for the whole journey
    seed(emulator, 400)
    sign_in("producer")
    rows = page.locator("#stream-table tbody tr")
    expect(rows).to_have_count(10)
    expect(page.get_by_text(TARGET)).to_have_count(0)
    page.goto(f"{live_server.url}/streams/?page=40")  # where it sits, newest first
    expect(rows.last).to_contain_text(TARGET)
    page.goto(f"{live_server.url}/streams/")

    box = page.get_by_label("Search streams")
    box.click()
    emulator.clear_requests()
    with page.expect_request(lambda r: "/streams/live/" in r.url and "q=north" in r.url, timeout=10_000):
        box.press_sequentially("north pi", delay=60)  # typed, not submitted: the list follows
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text(TARGET)
    expect(box).to_be_focused()
    expect(box).to_have_value("north pi")
    expect(page.locator("#stream-count")).to_have_text("1 match among 400 streams")
    assert re.search(r"/streams/\?q=north\+pi&sort=-created&page=1&size=10$", page.url), page.url
    assert emulator.requests() == []  # searching and its polls asked FastPix nothing
    assert_no_axe_violations(page)

    page.get_by_role("link", name=TARGET, exact=True).click()
    expect(page.get_by_role("heading", name=TARGET)).to_be_visible()
    page.go_back()
    expect(page.get_by_label("Search streams")).to_have_value("north pi")
    expect(rows).to_have_count(1)


def test_filters_and_the_pin_box_change_the_list_in_place(
    page: Page, sign_in: Any, emulator: EmulatorControl, settings: Any
) -> None:
    settings.VIEWER_COUNT_TTL = 60
    start = timezone.now() - timedelta(hours=1)
    emulator.create_stream(
        metadata={"livestream_name": "Old but live"}, status="active", createdAt=start.isoformat()
    )
    for n in range(3):
        emulator.create_stream(
            metadata={"livestream_name": f"Idle {n}"},
            createdAt=(start + timedelta(minutes=n + 1)).isoformat(),
        )
    mirror_workspace()
    sampler_ran()
    sign_in("reviewer")
    rows = page.locator("#stream-table tbody tr")
    expect(rows.first).to_contain_text("Old but live")  # pinned
    page.get_by_label("Live streams first").uncheck()
    expect(rows.first).to_contain_text("Idle 2")
    assert "pin=off" in page.url
    page.get_by_label("Status").select_option("live")
    expect(rows).to_have_count(1)
    page.get_by_label("Sort by").select_option("name")
    page.get_by_label("Status").select_option("")
    expect(rows.first).to_contain_text("Idle 0")
    page.reload()
    expect(page.get_by_label("Live streams first")).not_to_be_checked()
    expect(page.get_by_label("Sort by")).to_have_value("name")
    expect(rows.first).to_contain_text("Idle 0")


def test_the_search_form_fits_a_phone_without_sideways_scroll(
    page: Page, sign_in: Any, emulator: EmulatorControl
) -> None:
    emulator.create_stream(metadata={"livestream_name": "Keynote"})
    mirror_workspace()
    sampler_ran()
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in("admin")
    form = page.locator("#list-form")
    expect(form).to_be_visible()
    widths = page.evaluate(
        """() => {
            const form = document.getElementById("list-form");
            return {page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                    form: form.scrollWidth, formBox: form.clientWidth,
                    right: Math.max(...[...form.querySelectorAll("input, select, button, label")]
                        .filter((el) => el.offsetParent !== null)
                        .map((el) => el.getBoundingClientRect().right))};
        }"""
    )
    assert widths["page"] <= widths["viewport"], widths
    assert widths["form"] <= widths["formBox"], widths
    assert widths["right"] <= widths["viewport"], widths


def test_without_javascript_the_search_form_submits_and_pages_keep_the_search(
    plain_page: Page, live_server: Any, make_user: Any, emulator: EmulatorControl
) -> None:
    page = plain_page
    for n in range(15):
        emulator.create_stream(metadata={"livestream_name": f"Match {n:02d}"})
    emulator.create_stream(metadata={"livestream_name": "Other"})
    mirror_workspace()
    sampler_ran()
    user = make_user("reviewer")
    page.goto(f"{live_server.url}/streams/")
    submit_sign_in(page, user.username)
    page.get_by_label("Search streams").fill("match")
    page.get_by_label("Sort by").select_option("name")
    page.get_by_label("Live streams first").uncheck()
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#stream-table tbody tr")
    expect(rows.first).to_contain_text("Match 00")
    expect(page.locator("#stream-count")).to_have_text("15 matches among 16 streams")
    page.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("Match 10")
    expect(page.get_by_label("Search streams")).to_have_value("match")
    expect(page.get_by_label("Live streams first")).not_to_be_checked()
