"""Lifecycle actions at their crossings: the mirror against FastPix, the in-flight lock against the client's
retries, FastPix's errors against the answer the user reads. Real HTTP to the emulator throughout."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl
from streams.client import LiveStream, get_client
from streams.models import AuditEntry, MirroredStream
from tests.test_actions_from_mirror import _synced, mirrored  # noqa: F401 - _synced: an autouse fixture

pytestmark = pytest.mark.django_db

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def live_but_mirrored_idle(emulator: EmulatorControl) -> LiveStream:
    """A broadcast that just started: FastPix says live, the mirror (a moment behind) still says idle."""
    return mirrored(
        emulator,
        status="active",
        views=214,
        metadata={"livestream_name": "Keynote"},
        as_mirror_says={"status": "idle"},
    )


def mutations(emulator: EmulatorControl) -> list[tuple[str, str]]:
    return [
        (e["method"], e["path"].rsplit("/", 1)[-1]) for e in emulator.requests() if e["method"] in MUTATING
    ]


# ---------------------------------------------------------------- the mirror says live, FastPix says gone


@pytest.mark.parametrize("action", ["finish", "disable"])
def test_a_stream_the_mirror_holds_but_fastpix_deleted_is_forgotten_by_the_mirror(
    producer_client: Client, emulator: EmulatorControl, action: str
) -> None:
    stream = mirrored(emulator, status="active", metadata={"livestream_name": "Keynote"})
    get_client().delete_stream(stream.stream_id)  # deleted elsewhere; no webhook reaches the console
    response = producer_client.post(
        f"/streams/{stream.stream_id}/{action}/", {"from": "list"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "This stream no longer exists." in html
    assert f'<tr id="stream-{stream.stream_id}" hx-swap-oob="delete"></tr>' in html
    # FastPix said 404: every open page must say so next, and the dialog must not offer the action again.
    assert MirroredStream.objects.get(stream_id=stream.stream_id).deleted_at is not None
    dialog = producer_client.get(f"/streams/{stream.stream_id}/{action}/", HTTP_HX_REQUEST="true")
    assert "This stream no longer exists" in dialog.content.decode()
    assert AuditEntry.objects.get().outcome == "refused"


# ---------------------------------------------------------------- the mirror a moment behind: it says idle, FastPix says live


def test_the_disable_dialog_does_not_promise_that_no_one_is_disconnected_on_a_stale_mirrors_word(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = live_but_mirrored_idle(emulator)
    html = admin_client.get(f"/streams/{stream.stream_id}/disable/", HTTP_HX_REQUEST="true").content.decode()
    assert "no one is disconnected" not in html
    assert "Ends the broadcast now and disconnects" in html
    # ...and the POST that follows says what it did: the broadcast ended.
    done = admin_client.post(f"/streams/{stream.stream_id}/disable/", HTTP_HX_REQUEST="true").content.decode()
    assert "The broadcast ended and its viewers were disconnected." in done
    assert emulator.stream_state(stream.stream_id)["stream"]["status"] == "disabled"


def test_the_delete_dialog_warns_that_the_stream_is_live_even_when_the_mirror_says_idle(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream = live_but_mirrored_idle(emulator)
    html = admin_client.get(f"/streams/{stream.stream_id}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "It is live now" in html
    assert "deleting it disconnects the encoder and ends the broadcast immediately." in html


# ---------------------------------------------------------------- the in-flight lock against the client's retries


def test_a_second_click_does_not_hang_for_as_long_as_a_lock_can_last(
    producer_client: Client, emulator: EmulatorControl, monkeypatch: Any
) -> None:
    # A second click waits a bounded time for the first one's result (WAIT_LIMIT, shorter than the lock),
    # then says it is still in flight: a request never hangs for as long as a lock can last.
    from datetime import timedelta

    from streams import inflight

    monkeypatch.setattr(inflight, "WAIT_LIMIT", 0.5)
    stream_id = str(
        emulator.create_stream(status="active", metadata={"livestream_name": "Keynote"})["streamId"]
    )
    emulator.clear_requests()
    theirs, _ = inflight.begin(stream_id, "finish", None)
    assert theirs is not None
    assert theirs.expires_at - theirs.started_at >= timedelta(seconds=inflight.lock_seconds())
    started = time.monotonic()
    html = producer_client.post(f"/streams/{stream_id}/finish/", follow=True).content.decode()
    assert time.monotonic() - started < 5
    assert "That finish is already being sent (another click or tab), so it was not sent twice." in html
    assert emulator.requests(method="PUT") == []
    assert AuditEntry.objects.get().outcome == "duplicate"
