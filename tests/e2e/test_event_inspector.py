"""The event inspector in a browser: readable by axe, payloads opened from the keyboard, and "Re-apply"
working with JavaScript on and off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from streams.models import MirroredStream
from tests.e2e.conftest import assert_no_axe_violations, submit_sign_in
from tests.test_webhooks import SECRET, event, post


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.FASTPIX_WEBHOOK_SECRET = SECRET


@pytest.fixture
def deliveries(emulator: Any, transactional_db: None) -> dict[str, Any]:
    """A stream that went live and then idle, with a late 'active', a duplicate and a forgery on the way."""
    stream = emulator.create_stream(status="idle", metadata={"livestream_name": "Main stage"})
    now = datetime.now(UTC)
    webhook = Client()
    active = event("video.live_stream.active", stream, at=now - timedelta(seconds=3), status="active")
    post(webhook, event("video.live_stream.idle", stream, at=now, status="idle"))
    post(webhook, active)
    post(webhook, active)
    post(webhook, event("video.live_stream.updated", stream), signature="Zm9yZ2Vk")
    return {"stream": stream, "active": active}


def test_an_admin_reads_an_event_and_reapplies_it(
    live_server: Any, page: Page, sign_in: Callable[[str], Any], deliveries: dict[str, Any]
) -> None:
    sign_in("admin")
    page.get_by_role("link", name="Events").click()

    expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(5)  # the header and four deliveries
    expect(table.get_by_text("Duplicate, ignored")).to_be_visible()
    expect(table.get_by_text("Older than what the console knows, ignored")).to_be_visible()
    assert_no_axe_violations(page)

    summary = page.locator("summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("details[open] pre")).to_contain_text('"streamKey": "[redacted]"')
    assert_no_axe_violations(page)

    page.get_by_role("button", name=f"Re-apply event {deliveries['active']['id']}").first.click()
    expect(
        page.get_by_text("re-applied: Older than what the console knows: nothing changed.")
    ).to_be_visible()
    assert MirroredStream.objects.get().status == "idle"


def test_reapplying_works_without_javascript(
    live_server: Any, plain_page: Page, make_user: Any, deliveries: dict[str, Any]
) -> None:
    MirroredStream.objects.all().delete()  # the console lost its memory: re-applying brings the stream back
    user = make_user("admin")
    page = plain_page
    page.goto(f"{live_server.url}/login/")
    submit_sign_in(page, user.username)
    page.goto(f"{live_server.url}/events/?verdict=applied")

    page.get_by_role("button", name="Re-apply").click()

    expect(page.get_by_text("re-applied: changed")).to_be_visible()
    assert page.url == f"{live_server.url}/events/?verdict=applied"
    assert MirroredStream.objects.get().status == "idle"
