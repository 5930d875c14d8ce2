"""Encoder setup in the browser: tabs by keyboard, copy buttons, the QR code leaving after its time."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_no_axe_violations, submit_sign_in

RTMPS = "rtmps://live.fastpix.com:443/live"


def _open(page: Page, sign_in: Any, emulator: Any, live_server: Any) -> dict[str, Any]:
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    return stream


def test_the_encoder_tabs_work_by_keyboard(page: Page, sign_in: Any, emulator: Any, live_server: Any) -> None:
    _open(page, sign_in, emulator, live_server)
    tabs = page.get_by_role("tablist", name="Encoder")
    obs = tabs.get_by_role("tab", name="OBS Studio")
    expect(obs).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="OBS Studio")).to_be_visible()
    expect(page.locator("#encoder-vmix")).to_be_hidden()

    obs.focus()
    page.keyboard.press("ArrowRight")
    vmix = tabs.get_by_role("tab", name="vMix")
    expect(vmix).to_be_focused()
    expect(vmix).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="vMix")).to_contain_text("Stream Name or Key")
    expect(page.locator("#encoder-obs")).to_be_hidden()

    page.keyboard.press("End")
    expect(tabs.get_by_role("tab", name="SRT")).to_be_focused()
    expect(page.get_by_role("tabpanel", name="SRT")).to_contain_text("Passphrase")
    page.keyboard.press("ArrowRight")  # wraps around to the first
    expect(obs).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(tabs.get_by_role("tab", name="SRT")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(obs).to_have_attribute("aria-selected", "true")
    # Only the chosen tab is in the tab order: Tab leaves the tab list for its panel.
    page.keyboard.press("Tab")
    expect(page.get_by_role("tabpanel", name="OBS Studio")).to_be_focused()
    assert_no_axe_violations(page)


def test_copy_buttons_copy_their_own_field(page: Page, sign_in: Any, emulator: Any, live_server: Any) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    stream = _open(page, sign_in, emulator, live_server)
    page.get_by_role("button", name="Copy OBS Studio Server").click()
    assert page.evaluate("navigator.clipboard.readText()") == RTMPS

    page.get_by_role("button", name="Reveal stream key").click()
    expect(page.locator("#obs-key")).to_have_text(stream["streamKey"])
    page.get_by_role("tab", name="ffmpeg").click()
    page.get_by_role("button", name="Copy ffmpeg Command").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("ffmpeg -re -i input.mp4 ")
    assert copied.endswith(f'-f flv "{RTMPS}/{stream["streamKey"]}"')


# A copy button's visible text: its own text, without the visually hidden name of the field it copies.
VISIBLE_TEXT = """button => Array.from(button.childNodes)
    .filter(node => !(node.classList && node.classList.contains("visually-hidden")))
    .map(node => node.textContent).join("").trim()"""


def test_a_copy_button_reads_copy_again_after_copied_and_keeps_its_hidden_name(
    page: Page, sign_in: Any, emulator: Any, live_server: Any
) -> None:
    """ "Copied" for a moment, then the button's own markup back: "Copy" on screen, the encoder and field
    in a visually hidden span (not flattened into visible text), also after a second click meanwhile."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    _open(page, sign_in, emulator, live_server)
    button = page.locator('[data-copy="obs-server"]')
    expect(button).to_have_accessible_name("Copy OBS Studio Server")

    button.click()
    page.wait_for_function(f"b => ({VISIBLE_TEXT})(b) === 'Copied'", arg=button.element_handle())
    button.click()  # again while it says "Copied"

    back = f"b => ({VISIBLE_TEXT})(b) === 'Copy' && b.querySelector('.visually-hidden') !== null"
    page.wait_for_function(back, arg=button.element_handle(), timeout=5000)
    page.wait_for_timeout(1700)  # the second click's timer has run out too: it stays "Copy"
    assert button.evaluate(VISIBLE_TEXT) == "Copy"
    expect(button.locator(".visually-hidden")).to_have_text("OBS Studio Server")
    expect(button).to_have_accessible_name("Copy OBS Studio Server")


def test_the_qr_code_shows_after_a_reveal_and_leaves_after_its_time(
    page: Page, sign_in: Any, emulator: Any, live_server: Any, settings: Any
) -> None:
    settings.QR_VISIBLE_SECONDS = 3
    stream = _open(page, sign_in, emulator, live_server)
    page.get_by_role("tab", name="Mobile").click()
    expect(page.get_by_text("Reveal the stream key above to show a QR code")).to_be_visible()
    assert page.locator("svg.qr-code").count() == 0

    page.get_by_role("button", name="Reveal stream key").click()
    # The card is swapped whole; the Mobile tab stays chosen and shows the QR code of the full URL.
    expect(page.get_by_role("tab", name="Mobile")).to_have_attribute("aria-selected", "true")
    qr = page.get_by_role("img", name="QR code of the full ingest URL with the stream key")
    expect(qr).to_be_visible()
    expect(page.locator("#mobile-url")).to_have_text(f"{RTMPS}/{stream['streamKey']}")
    assert_no_axe_violations(page)

    expect(qr).to_have_count(0, timeout=8000)
    expect(page.get_by_text("The QR code was hidden after 3 seconds.")).to_be_visible()
    # The fields keep the revealed key, as they always have; only the QR code leaves.
    expect(page.locator("#mobile-url")).to_have_text(f"{RTMPS}/{stream['streamKey']}")


def test_without_javascript_every_encoder_is_a_section_and_the_qr_code_stays(
    plain_page: Page, live_server: Any, make_user: Any, emulator: Any
) -> None:
    page = plain_page
    stream = emulator.create_stream(metadata={"livestream_name": "Main stage"})
    user = make_user("producer")
    page.goto(f"{live_server.url}/login/")
    submit_sign_in(page, user.username)
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    expect(page.get_by_role("tablist")).to_have_count(0)
    for name in ("OBS Studio", "vMix", "ffmpeg", "Mobile", "SRT"):
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Reveal stream key").click()  # a plain form post: the whole page again
    expect(page.get_by_role("img", name="QR code of the full ingest URL with the stream key")).to_be_visible()
    expect(page.get_by_text("without JavaScript, when you reload the page")).to_be_visible()
