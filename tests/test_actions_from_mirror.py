"""Actions when the console's memory holds the stream: no read before the mutation (the mirror knows the
name and the state), one re-read after it for the truthful answer, applied to the mirror. The mirror may
be a moment behind FastPix, so it never decides alone that an action has nothing to do."""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams import inflight
from streams.client import LiveStream, get_client
from streams.live import fetch_pool
from streams.models import ActionAttempt, AuditEntry, MirroredStream, WorkerRun
from streams.templatetags.console import badge
from streams.workspace import mirror

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _synced(db: None) -> None:
    """Stand in for the worker: it has walked FastPix's list and samples viewers."""
    now = timezone.now()
    for job in ("reconcile", "sample"):
        WorkerRun.objects.create(job=job, started_at=now, finished_at=now, ok_at=now)


def mirrored(
    emulator: EmulatorControl, *, as_mirror_says: dict[str, Any] | None = None, **fields: Any
) -> LiveStream:
    """A stream made in the emulator and applied to the mirror; `as_mirror_says` changes what the mirror
    holds (a mirror a moment behind FastPix)."""
    stream_id = emulator.create_stream(**fields)["streamId"]
    stream = get_client().get_stream(stream_id)
    mirror.observe(dataclasses.replace(stream, **(as_mirror_says or {})), timezone.now())
    emulator.clear_requests()
    return stream


def calls(emulator: EmulatorControl) -> list[tuple[str, str]]:
    return [(entry["method"], entry["path"].rsplit("/", 1)[-1]) for entry in emulator.requests()]


def test_finish_with_a_mirrored_stream_makes_exactly_the_put_and_one_reread(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    response = producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert calls(emulator) == [("PUT", "finish"), ("GET", stream.stream_id)]
    assert "Finished the broadcast of “Keynote”." in response.content.decode()
    assert emulator.stream_state(stream.stream_id)["stream"]["status"] == "idle"
    assert MirroredStream.objects.get(stream_id=stream.stream_id).status == "idle"  # the re-read, applied
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.stream_name) == ("finish", "done", "Keynote")


def test_the_confirmation_takes_the_name_from_the_mirror_without_asking_fastpix(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(
        emulator,
        status="active",
        metadata={"livestream_name": "Old name"},
        as_mirror_says={"metadata": {"livestream_name": "Keynote"}},
    )
    html = producer_client.get(f"/streams/{stream.stream_id}/finish/").content.decode()
    assert "Finish the broadcast of Keynote?" in html
    assert emulator.requests() == []


def test_a_delete_checks_the_typed_name_against_the_mirror_and_sends_only_the_delete(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, metadata={"livestream_name": "Keynote"})
    refused = admin_client.post(f"/streams/{stream.stream_id}/delete/", {"confirm": "Keynotes"})
    assert refused.status_code == 422
    assert emulator.requests() == []
    admin_client.post(f"/streams/{stream.stream_id}/delete/", {"confirm": "keynote"})
    assert calls(emulator) == [("DELETE", stream.stream_id)]
    assert MirroredStream.objects.get(stream_id=stream.stream_id).deleted_at is not None


def test_a_mirror_that_says_idle_while_fastpix_says_live_does_not_stop_the_finish(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    # The mirror is a moment behind: it says idle, FastPix already has the broadcast live.
    stream = mirrored(
        emulator, status="active", metadata={"livestream_name": "Keynote"}, as_mirror_says={"status": "idle"}
    )
    response = producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
    # FastPix is asked before anything is called "nothing to do", and its answer is what happens.
    assert calls(emulator) == [("GET", stream.stream_id), ("PUT", "finish"), ("GET", stream.stream_id)]
    assert "Finished the broadcast of “Keynote”." in response.content.decode()
    assert emulator.stream_state(stream.stream_id)["stream"]["status"] == "idle"


def test_a_mirror_that_says_idle_while_fastpix_says_live_still_offers_the_finish_dialog(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(
        emulator, status="active", metadata={"livestream_name": "Keynote"}, as_mirror_says={"status": "idle"}
    )
    dialog = producer_client.get(f"/streams/{stream.stream_id}/finish/").content.decode()
    assert "Finish the broadcast of Keynote?" in dialog
    assert calls(emulator) == [("GET", stream.stream_id)]
    assert MirroredStream.objects.get(stream_id=stream.stream_id).status == "active"  # the read, applied


def test_a_mirror_that_says_live_after_the_broadcast_ended_gets_fastpixs_truthful_refusal(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(
        emulator, status="idle", metadata={"livestream_name": "Keynote"}, as_mirror_says={"status": "active"}
    )
    response = producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert calls(emulator) == [("PUT", "finish"), ("GET", stream.stream_id)]
    assert "Could not finish “Keynote”. FastPix refused" in html
    assert "the broadcast had already ended." in html
    assert '<span class="badge badge-idle">Idle</span>' in html
    assert AuditEntry.objects.get().outcome == "refused"
    assert MirroredStream.objects.get(stream_id=stream.stream_id).status == "idle"


def test_a_retry_after_a_failed_finish_goes_through(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    emulator.add_fault(f"/live/streams/{stream.stream_id}/finish$", method="PUT", status=503)
    first = producer_client.post(
        f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "it still reports “Keynote” live: it was not finished. Try again." in first
    emulator.clear_requests()
    second = producer_client.post(
        f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert calls(emulator) == [("PUT", "finish"), ("GET", stream.stream_id)]
    assert "Finished the broadcast of “Keynote”." in second
    assert [e.outcome for e in AuditEntry.objects.order_by("id")] == ["failed", "done"]


def test_an_action_in_flight_is_not_sent_again_from_the_mirror(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    theirs, _ = inflight.begin(stream.stream_id, "finish", None)  # another tab's finish, still in flight
    assert theirs is not None
    ActionAttempt.objects.filter(pk=theirs.pk).update(expires_at=timezone.now() + timedelta(seconds=0.3))
    response = producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert calls(emulator) == [("GET", stream.stream_id)]  # the truth for the answer; no second PUT
    assert AuditEntry.objects.get().outcome == "duplicate"
    assert emulator.stream_state(stream.stream_id)["stream"]["status"] == "active"


def test_without_a_synced_mirror_the_action_reads_first_as_before(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    WorkerRun.objects.filter(job="reconcile").delete()
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
    assert calls(emulator) == [("GET", stream.stream_id), ("PUT", "finish"), ("GET", stream.stream_id)]


# ---------------------------------------------------------------- the dialog's answer, ready as the re-read lands


@dataclasses.dataclass
class Watched:
    response: Any
    answered_at: float
    statuses: list[tuple[float, str]]  # when the answer's status badge was rendered, and with which status


def finish_with_a_slow_reread(
    client: Client, emulator: EmulatorControl, stream_id: str, reread_ms: float, meanwhile: Any = None
) -> Watched:
    """A Finish from the dialog whose re-read takes `reread_ms`; `meanwhile` runs 0.3 s into it."""
    emulator.add_fault(f"/live/streams/{stream_id}$", method="GET", latency_ms=reread_ms, times=1)
    statuses: list[tuple[float, str]] = []

    def seen(sender: Any, template: Any, context: Any, **kwargs: Any) -> None:
        if getattr(template, "name", "") == "streams/_status.html":
            statuses.append((time.monotonic(), str(context.get("status"))))

    template_rendered.connect(seen)
    timer = threading.Timer(0.3, meanwhile or (lambda: None))
    timer.start()
    try:
        response = client.post(f"/streams/{stream_id}/finish/", HTTP_HX_REQUEST="true")
        return Watched(response, time.monotonic(), statuses)
    finally:
        timer.join()
        template_rendered.disconnect(seen)


def test_the_dialogs_answer_is_rendered_while_the_reread_is_out(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    # Its status, buttons and history are those of the state FastPix reports on success (idle); the re-read
    # finds that, so the answer rendered meanwhile is sent as it lands, not rendered again after it.
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    watched = finish_with_a_slow_reread(producer_client, emulator, stream.stream_id, 400)
    assert calls(emulator) == [("PUT", "finish"), ("GET", stream.stream_id)]
    assert watched.response.content.decode().count("Finished the broadcast of “Keynote”.") == 1
    assert [status for _, status in watched.statuses] == ["idle"]
    assert watched.answered_at - watched.statuses[0][0] >= 0.3  # before the re-read's 400 ms were over
    assert MirroredStream.objects.get(stream_id=stream.stream_id).status == "idle"
    assert AuditEntry.objects.get().outcome == "done"


def test_a_reread_that_finds_another_state_is_what_the_answer_shows_with_its_message_once(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    # The encoder connects again while the re-read is out: the answer rendered for "idle" is dropped, and
    # the one sent shows the stream preparing, with the message once (it is given, never stored twice).
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    watched = finish_with_a_slow_reread(
        producer_client, emulator, stream.stream_id, 800, meanwhile=lambda: emulator.connect(stream.stream_id)
    )
    html = watched.response.content.decode()
    assert [status for _, status in watched.statuses] == ["idle", "preparing"]
    assert html.count("Finished the broadcast of “Keynote”.") == 1
    assert badge("preparing") in html
    assert badge("idle") not in html
    assert MirroredStream.objects.get(stream_id=stream.stream_id).status == "preparing"
    assert producer_client.get(f"/streams/{stream.stream_id}/").content.decode().count("Finished the") == 0


def test_a_message_still_pending_is_kept_for_the_next_page_and_the_dialogs_shown_once(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    first = mirrored(emulator, status="active", metadata={"livestream_name": "Morning"})
    second = mirrored(emulator, status="active", metadata={"livestream_name": "Evening"})
    # Without JavaScript, and the redirect not followed: its message waits for the next page.
    producer_client.post(f"/streams/{first.stream_id}/finish/")
    html = producer_client.post(
        f"/streams/{second.stream_id}/finish/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert html.count("Finished the broadcast of “Evening”.") == 1
    assert "Morning" not in html
    later = producer_client.get(f"/streams/{second.stream_id}/").content.decode()
    assert later.count("Finished the broadcast of “Morning”.") == 1
    assert "Finished the broadcast of “Evening”." not in later


def test_a_finish_does_not_queue_behind_a_pages_reads_on_the_fastpix_pool(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    # Every thread of the pool that pages read FastPix on is busy (a list's viewer counts while the worker
    # is down, say): the Finish and its re-read go out on their own pool, at once.
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    release = threading.Event()
    busy = [fetch_pool.submit(release.wait, 30) for _ in range(fetch_pool._max_workers * 2)]
    watchdog = threading.Timer(10, release.set)  # frees the pool, should the Finish be waiting for it
    watchdog.start()
    try:
        started = time.monotonic()
        response = producer_client.post(f"/streams/{stream.stream_id}/finish/", HTTP_HX_REQUEST="true")
        took = time.monotonic() - started
    finally:
        watchdog.cancel()
        release.set()
        for task in busy:
            task.result(timeout=30)
    assert took < 5
    assert "Finished the broadcast of “Keynote”." in response.content.decode()
    assert calls(emulator) == [("PUT", "finish"), ("GET", stream.stream_id)]
