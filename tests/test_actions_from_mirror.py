"""Actions when the console's memory holds the stream: no read before the mutation (the mirror knows the
name and the state), one re-read after it for the truthful answer, applied to the mirror. The mirror may
be a moment behind FastPix, so it never decides alone that an action has nothing to do."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from emulator.testing import EmulatorControl
from streams import inflight
from streams.client import LiveStream, get_client
from streams.models import ActionAttempt, AuditEntry, MirroredStream, WorkerRun
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
