"""streams/live.py: shared viewer counts. The seam is the FastPix pool's `submit`."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

from streams import live


def test_a_count_read_that_lands_at_once_does_not_deadlock(emulator: Any, monkeypatch: Any) -> None:
    # FastPix (here the emulator with no latency) can answer before the caller registers its callback:
    # a pool that runs the read in the caller's thread is the extreme of that. The throughput bench
    # hung on exactly this.
    stream_id = emulator.create_stream(status="active", views=7)["streamId"]

    def run_now(fn: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future

    monkeypatch.setattr(live, "submit", run_now)
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(live.viewer_counts([stream_id])))
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "viewer_counts deadlocked"
    assert live.views_of(result[stream_id]) == 7
    assert live._flights == {}


@pytest.mark.django_db
def test_requests_in_one_process_share_one_read_of_a_missing_count(emulator: Any) -> None:
    stream_id = emulator.create_stream(status="active", views=3)["streamId"]
    emulator.add_fault(r"/viewer-count$", method="GET", latency_ms=300, times=1)
    emulator.clear_requests()
    results: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda: results.append(live.viewer_counts([stream_id]))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [live.views_of(r[stream_id]) for r in results] == [3] * 8
    assert len(emulator.requests(path_regex="/viewer-count$")) == 1


def test_the_status_and_path_filters_render_what_the_urlconf_and_the_old_includes_did() -> None:
    from django.template import Context, Template
    from django.urls import reverse

    from streams.templatetags.console import badge, stream_path, viewers

    stream_id = "0123456789abcdef0123456789abcdef"
    assert stream_path(stream_id) == reverse("stream-detail", args=[stream_id])
    for action in ("enable", "disable", "finish", "delete"):
        assert stream_path(stream_id, f"{action}/") == reverse("stream-action", args=[stream_id, action])
    assert badge("active") == '<span class="badge badge-active">Live</span>'
    assert badge("") == '<span class="badge badge-idle">Unknown</span>'
    assert badge("weird") == '<span class="badge badge-weird">Weird</span>'
    assert viewers(12, "active") == "12"
    assert "Viewer count unavailable" in viewers(None, "active")
    assert 'aria-label="not live"' in viewers(12, "idle")
    rendered = Template("{% include 'streams/_status.html' %}").render(Context({"status": "preparing"}))
    assert rendered.strip() == '<span class="badge badge-preparing">Preparing</span>'
