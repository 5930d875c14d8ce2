"""Browser journey: a stream's readiness lights follow the stream as it goes live, without a reload.

The test stands in for the worker: it applies FastPix's state to the mirror, marks the sampler's run (so
the page's poll reads only the database) and runs the readiness job once, which probes the emulator's
stand-in stream host over HTTP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from streams.client import get_client
from streams.models import WorkerRun
from streams.workspace import mirror, readiness
from streams.workspace.pacing import Context
from tests.e2e.conftest import assert_no_axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


def worker_round(stream_id: str) -> None:
    """What the worker does in one period: the mirror current, the sampler's run marked, lights judged."""
    mirror.observe(get_client().get_stream(stream_id), timezone.now())
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.update_or_create(
            job=job, defaults={"started_at": now, "finished_at": now, "ok_at": now}
        )
    readiness.judge(Context.standalone(), period=0.1)


def light(page: Page, key: str) -> Any:
    return page.locator(f'#stream-lights [data-light="{key}"]')


def test_the_lights_turn_live_and_playable_without_a_reload_when_the_stream_goes_live(
    page: Page, sign_in: Any, emulator: Any, emulator_server: Any, live_server: Any, settings: Any
) -> None:
    settings.LIVE_POLL_SECONDS = 1
    settings.FASTPIX_STREAM_URL = f"{emulator_server.base_url}/stream"
    stream_id = emulator.create_stream(status="preparing", metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    worker_round(stream_id)
    sign_in("producer")
    page.goto(f"{live_server.url}/streams/{stream_id}/")
    page.evaluate("window.notReloaded = true")

    lights = page.get_by_role("list", name="Readiness")
    expect(lights).to_be_visible()
    expect(light(page, "encoder")).to_contain_text("Encoder: Connected")
    expect(light(page, "live")).to_contain_text("Live: Not live")
    expect(light(page, "playable")).to_contain_text(
        re.compile(r"Playable:\s*Not playable\s*— no segments yet")
    )
    # When it changed, as a time (in the browser's zone) with the relative time on hover.
    expect(light(page, "live")).to_contain_text(re.compile(r"changed \d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d"))
    expect(light(page, "live").locator("time")).to_have_attribute("title", "just now")
    assert_no_axe_violations(page)

    emulator.go_live(stream_id)
    worker_round(stream_id)

    expect(light(page, "live")).to_contain_text("Live: Live", timeout=10_000)
    expect(light(page, "playable")).to_contain_text("Playable: Playable", timeout=10_000)
    expect(light(page, "playable")).not_to_contain_text("no segments")
    expect(light(page, "encoder")).to_contain_text("Encoder: Connected")
    assert page.evaluate("window.notReloaded") is True  # morphed in place, never reloaded
