"""Browser journey: FastPix (the emulator) sends its signed webhooks to the console (live_server); a live
stream's encoder drops while its page is open → within 2 s a loud banner (role="alert") counts the
reconnect window down and the tab's title says the stream dropped; the encoder returns → both clear,
and the run-of-show shows the disconnection and the reconnection. No reload, and axe finds nothing."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from emulator.testing import EmulatorControl
from streams.client import get_client
from streams.models import WorkerRun
from streams.workspace import mirror
from tests.e2e.conftest import assert_no_axe_violations

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="
NAME = "Main stage"


def worker_is_sampling() -> None:
    """The poll answers from the mirror while the worker's sampler is current (this test stands in for it)."""
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )


def seconds(countdown: str) -> int:
    minutes, secs = countdown.strip().split(":")[-2:]
    return int(minutes) * 60 + int(secs)


def test_a_drop_shows_a_ticking_countdown_and_a_changed_title_within_2_s_and_a_reconnect_clears_them(
    page: Page, sign_in: Any, emulator: EmulatorControl, live_server: Any, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    settings.FASTPIX_WEBHOOK_SECRET = SECRET
    emulator.set_webhooks(f"{live_server.url}/webhooks/fastpix/", SECRET, retry_base_seconds=0.05)
    try:
        sid = emulator.create_stream(status="active", reconnectWindow=90, metadata={"livestream_name": NAME})[
            "streamId"
        ]
        mirror.observe(get_client().get_stream(sid), timezone.now())
        worker_is_sampling()
        sign_in("producer")
        page.goto(f"{live_server.url}/streams/{sid}/")
        page.evaluate("window.notReloaded = true")
        expect(page).to_have_title(f"{NAME} · FastPix console")
        alert = page.get_by_role("alert").filter(has_text="Encoder disconnected")
        expect(alert).to_have_count(0)

        worker_is_sampling()
        emulator.disconnect(sid)
        dropped_at = time.monotonic()
        expect(alert).to_be_visible(timeout=2_000)
        expect(page).to_have_title(f"⚠ Dropped — {NAME} · FastPix console", timeout=2_000)
        assert time.monotonic() - dropped_at <= 2.5  # the 2 s, with room for the assertions' own polling
        expect(alert).to_contain_text(
            re.compile(r"Encoder disconnected: reconnect within 1:[23]\d, or FastPix ends the broadcast")
        )
        timer = alert.get_by_role("timer")
        first = seconds(timer.inner_text())
        expect(timer).not_to_have_text(timer.inner_text(), timeout=2_500)  # it ticks in the browser
        later = seconds(timer.inner_text())
        assert 0 < first - later <= 3
        assert_no_axe_violations(page)

        worker_is_sampling()
        emulator.connect(sid)
        expect(alert).to_have_count(0, timeout=2_000)
        expect(page).to_have_title(f"{NAME} · FastPix console")
        timeline = page.locator("#stream-timeline ol.timeline")
        expect(timeline).to_contain_text("Disconnected")
        expect(timeline).to_contain_text("Reconnected within the window")
        titles = timeline.locator(".moment-title").all_inner_texts()
        assert titles.index("Disconnected") < titles.index("Reconnected within the window")
        assert page.evaluate("window.notReloaded") is True
        assert_no_axe_violations(page)
    finally:
        emulator.clear_webhooks()
