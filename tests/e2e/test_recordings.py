"""A Reviewer finds a finished stream's recording, sees it become Ready, and plays it in the FastPix player.

There is no internet here: play.fastpix.com (and the images host) are routed to local stubs. The stub only
loads if the page's CSP lets the frame through, so seeing its text proves frame-src allows the player.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import assert_no_axe_violations

STUB_PLAYER = "<!doctype html><html lang='en'><title>Stub player</title><p>Stub FastPix player</p></html>"
OTHER_ORIGIN = "https://player.example.org"


@pytest.fixture
def player_requests(page: Page) -> list[str]:
    """Serve play.fastpix.com from a stub and remember what was asked; images answer 404 at once."""
    seen: list[str] = []

    def player(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body=STUB_PLAYER)

    page.route("https://play.fastpix.com/**", player)
    page.route("https://images.fastpix.com/**", lambda route: route.fulfill(status=404, body=""))
    return seen


def test_a_reviewer_sees_a_recording_become_ready_and_plays_it(
    page: Page,
    live_server: Any,
    sign_in: Any,
    emulator: Any,
    player_requests: list[str],
    settings: Any,
) -> None:
    settings.FASTPIX_POLL_SECONDS = 1  # live_server runs in this process
    stream = emulator.create_stream(status="active", liveSeconds=600, metadata={"livestream_name": "Keynote"})
    stream_id = stream["streamId"]
    emulator.disconnect(stream_id, expire=True)  # the broadcast is over: FastPix records the session
    media_id = emulator.stream_state(stream_id)["stream"]["mediaIds"][0]
    emulator.set_media_status(media_id, "Processing")
    playback_id = emulator.media(media_id)["media"]["playbackIds"][0]["id"]

    sign_in("reviewer")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    row = page.locator(f"#media-{media_id}")
    expect(row.locator(".badge")).to_have_text("Processing")
    expect(row.get_by_text("10 min 00 s")).to_be_visible()
    page.evaluate("window.sameDocument = true")

    emulator.set_media_status(media_id, "Ready")
    expect(row.locator(".badge")).to_have_text("Ready")
    assert page.evaluate("window.sameDocument") is True  # updated in place, no reload

    with page.expect_response(f"{live_server.url}/recordings/{media_id}/") as player_page:
        row.get_by_role("link", name=re.compile(r"^Play")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recording of Keynote")
    frame = page.locator("iframe.player-frame")
    expect(frame).to_have_attribute("src", f"https://play.fastpix.com/?playbackId={playback_id}")
    expect(page.frame_locator("iframe.player-frame").get_by_text("Stub FastPix player")).to_be_visible()
    assert player_requests == [f"https://play.fastpix.com/?playbackId={playback_id}"]
    expect(page.locator("#hls-url")).to_have_text(f"https://stream.fastpix.com/{playback_id}.m3u8")
    expect(page.get_by_role("link", name="← Back to Keynote")).to_have_attribute(
        "href", f"/streams/{stream_id}/"
    )
    assert_no_axe_violations(page)

    csp = player_page.value.headers["content-security-policy"]
    assert "frame-src https://play.fastpix.com;" in csp + ";"

    # A frame from any other origin is refused by the same policy, before any request leaves the browser.
    other_requests: list[str] = []
    page.route(f"{OTHER_ORIGIN}/**", lambda route: (other_requests.append(route.request.url), route.abort()))
    violation = page.evaluate(
        """(src) => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (event) => resolve([event.effectiveDirective, event.blockedURI]), {once: true});
            const frame = document.createElement("iframe");
            frame.src = src;
            frame.title = "Another player";
            document.body.append(frame);
        })""",
        f"{OTHER_ORIGIN}/embed",
    )
    assert violation[0] == "frame-src"
    assert violation[1].startswith(OTHER_ORIGIN)
    assert other_requests == []


def test_the_recordings_page_is_accessible_and_plays_from_its_groups(
    page: Page, live_server: Any, sign_in: Any, emulator: Any, player_requests: list[str]
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Morning session"})
    ready = emulator.create_media(stream["streamId"], status="Ready", duration_seconds=95)
    emulator.create_media(stream["streamId"], status="Processing")

    sign_in("reviewer")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Recordings").click()
    group = page.get_by_role("region", name="Morning session")
    expect(group.locator("tbody tr")).to_have_count(2)
    assert_no_axe_violations(page)

    page.get_by_label("Ready only").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]ready=1"))
    expect(group.locator("tbody tr")).to_have_count(1)
    group.get_by_role("link", name=re.compile(r"^Play")).click()
    expect(page).to_have_url(f"{live_server.url}/recordings/{ready['id']}/")
    expect(page.frame_locator("iframe.player-frame").get_by_text("Stub FastPix player")).to_be_visible()


def test_a_reviewer_pages_through_a_streams_clips_in_place(
    page: Page, live_server: Any, sign_in: Any, emulator: Any, player_requests: list[str]
) -> None:
    stream = emulator.create_stream(metadata={"livestream_name": "Keynote"})
    for minute in range(12):
        emulator.create_media(
            stream["streamId"], kind="clip", created_at=f"2025-05-01T10:{minute:02d}:00Z", duration_seconds=30
        )

    sign_in("reviewer")
    page.goto(f"{live_server.url}/streams/{stream['streamId']}/")
    clips = page.locator("#clip-rows")
    expect(clips.locator("tbody tr")).to_have_count(10)
    page.evaluate("window.sameDocument = true")

    clips.get_by_role("link", name="Next clips").click()
    expect(clips.locator("tbody tr")).to_have_count(2)
    expect(clips.get_by_text("Page 2 of 2", exact=True)).to_be_visible()
    assert page.evaluate("window.sameDocument") is True
    assert page.url == f"{live_server.url}/streams/{stream['streamId']}/"

    clips.get_by_role("link", name="Previous clips").click()
    expect(clips.locator("tbody tr")).to_have_count(10)
