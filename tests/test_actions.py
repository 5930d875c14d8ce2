"""Lifecycle actions: enable, disable, finish, delete — confirmation, permission, outcome, audit.

Every test talks to the real emulator over HTTP; its request log proves what was (not) sent to FastPix.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from emulator.testing import EmulatorControl, EmulatorControlError
from streams.models import AuditEntry

pytestmark = pytest.mark.django_db

NAME = "Main stage"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def make_stream(emulator: EmulatorControl, status: str, **fields: Any) -> str:
    stream = emulator.create_stream(status=status, metadata={"livestream_name": NAME}, **fields)
    emulator.clear_requests()
    return str(stream["streamId"])


def status_of(emulator: EmulatorControl, stream_id: str) -> str:
    return str(emulator.stream_state(stream_id)["stream"]["status"])


def mutations(emulator: EmulatorControl) -> list[dict[str, Any]]:
    return [entry for entry in emulator.requests() if entry["method"] in MUTATING]


def act(client: Client, stream_id: str, action: str, **data: str) -> Any:
    """A POST without JavaScript, following the redirect to the page that tells what happened."""
    return client.post(f"/streams/{stream_id}/{action}/", data, follow=True)


def htmx_act(client: Client, stream_id: str, action: str, **data: str) -> Any:
    return client.post(f"/streams/{stream_id}/{action}/", data, HTTP_HX_REQUEST="true")


def squash(html: str) -> str:
    """The markup without the line breaks that template includes leave between tags."""
    return re.sub(r"\s*\n\s*", "", html)


def only_entry() -> AuditEntry:
    return AuditEntry.objects.get()


# ---------------------------------------------------------------- the legality matrix (contract §4.3)


@pytest.mark.parametrize(
    ("action", "before", "after", "says"),
    [
        ("enable", "disabled", "idle", f"Enabled “{NAME}”: it is idle and accepts a broadcast again."),
        (
            "disable",
            "idle",
            "disabled",
            f"Disabled “{NAME}”: it will not accept a broadcast until it is enabled",
        ),
        ("disable", "preparing", "disabled", f"Disabled “{NAME}”"),
        ("disable", "active", "disabled", "The broadcast ended and its viewers were disconnected."),
        (
            "finish",
            "active",
            "idle",
            f"Finished the broadcast of “{NAME}”. FastPix is finalising the recording.",
        ),
    ],
)
def test_an_allowed_action_is_done_and_fastpix_changes_state(
    admin_client: Client, emulator: EmulatorControl, action: str, before: str, after: str, says: str
) -> None:
    stream_id = make_stream(emulator, before, views=214)
    response = act(admin_client, stream_id, action)
    assert response.redirect_chain == [(f"/streams/{stream_id}/", 302)]
    assert says in response.content.decode()
    assert status_of(emulator, stream_id) == after
    entry = only_entry()
    assert (entry.action, entry.outcome, entry.stream_id, entry.stream_name) == (
        action,
        "done",
        stream_id,
        NAME,
    )
    assert entry.username == "admin-user"


def test_finishing_an_active_stream_makes_a_new_recording(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    act(admin_client, stream_id, "finish")
    assert len(emulator.stream_state(stream_id)["stream"].get("mediaIds", [])) == 1


@pytest.mark.parametrize("state", ["idle", "preparing", "active", "disabled"])
def test_delete_works_in_every_state(admin_client: Client, emulator: EmulatorControl, state: str) -> None:
    stream_id = make_stream(emulator, state)
    response = act(admin_client, stream_id, "delete", confirm=NAME)
    assert response.redirect_chain == [("/streams/", 302)]
    assert f"Deleted “{NAME}”." in response.content.decode()
    with pytest.raises(EmulatorControlError):
        emulator.stream_state(stream_id)
    assert (only_entry().action, only_entry().outcome) == ("delete", "done")


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("idle", "the broadcast had already ended."),
        ("preparing", "an encoder is connecting, but the broadcast has not started yet."),
        ("disabled", "the stream is disabled, so nothing is being broadcast."),
    ],
)
def test_finishing_a_stream_that_is_not_live_is_refused_with_the_reason(
    admin_client: Client, emulator: EmulatorControl, state: str, reason: str
) -> None:
    # The console reads the stream inside the action's lock: what is not live is not sent a finish.
    stream_id = make_stream(emulator, state)
    html = act(admin_client, stream_id, "finish").content.decode()
    assert f"Nothing to finish: {reason} Nothing was sent to FastPix." in html
    assert mutations(emulator) == []
    assert status_of(emulator, stream_id) == state
    entry = only_entry()
    word = {"idle": "idle", "preparing": "preparing", "disabled": "disabled"}[state]
    assert (entry.outcome, entry.message) == (
        "refused",
        f"Not sent: FastPix reported the stream {word}, so there was nothing to finish.",
    )


@pytest.mark.parametrize("state", ["idle", "preparing", "active"])
def test_enabling_an_enabled_stream_is_shown_as_done(
    admin_client: Client, emulator: EmulatorControl, state: str
) -> None:
    stream_id = make_stream(emulator, state)
    html = act(admin_client, stream_id, "enable").content.decode()
    assert f"“{NAME}” is enabled: it already was, so nothing was sent to FastPix." in html
    assert "message-success" in html
    assert mutations(emulator) == []
    assert status_of(emulator, stream_id) == state
    entry = only_entry()
    word = "live" if state == "active" else state
    assert (entry.outcome, entry.message) == (
        "done",
        f"Not sent: FastPix reported the stream {word}, so there was nothing to enable.",
    )


def test_disabling_a_disabled_stream_is_shown_as_done(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "disabled")
    html = act(admin_client, stream_id, "disable").content.decode()
    assert f"“{NAME}” is disabled: it already was, so nothing was sent to FastPix." in html
    assert mutations(emulator) == []
    entry = only_entry()
    assert entry.outcome == "done"


def test_a_state_changed_between_the_read_and_the_put_is_explained_in_the_streams_terms(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    # The encoder stops after the console read the stream (live) and before FastPix processes the PUT.
    import threading
    import time

    stream_id = make_stream(emulator, "active")
    # The PUT waits 600 ms at FastPix before it is processed; the encoder stops meanwhile.
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", latency_ms=600, times=1)
    ender = threading.Timer(0.2, lambda: emulator.disconnect(stream_id, expire=True))
    ender.start()
    started = time.monotonic()
    html = act(admin_client, stream_id, "finish").content.decode()
    ender.join()
    assert time.monotonic() - started >= 0.6
    assert (
        f"Could not finish “{NAME}”. FastPix refused: stream is not active — the broadcast had already ended."
        in html
    )
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1
    assert only_entry().outcome == "refused"


def test_enabling_a_disabled_trial_stream_is_refused_with_the_reason(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "disabled", trial=True)
    html = act(admin_client, stream_id, "enable").content.decode()
    assert (
        "FastPix refused: stream cannot be enabled on trial plan — trial streams cannot be enabled again "
        "once disabled." in html
    )
    assert (only_entry().outcome, status_of(emulator, stream_id)) == ("refused", "disabled")


# ---------------------------------------------------------------- the confirmation (GET)


def test_the_finish_confirmation_names_the_stream_and_counts_its_viewers(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    response = producer_client.get(f"/streams/{stream_id}/finish/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Ends the broadcast of <strong>Main stage</strong> now (214 viewers) and finalises the recording."
        in html
    )
    assert '<h2 id="confirm-dialog-title">Finish the broadcast of Main stage?</h2>' in html
    assert '<button type="button" class="button" data-dialog-close data-autofocus>Cancel</button>' in html
    assert f'hx-post="/streams/{stream_id}/finish/"' in html
    assert 'hx-disabled-elt="find button[type=submit]"' in html
    assert "<html" not in html  # just the dialog's fragment


def test_without_javascript_the_confirmation_is_a_page_with_a_post_form(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    html = producer_client.get(f"/streams/{stream_id}/finish/").content.decode()
    assert "<html" in html
    assert '<h1 id="confirm-dialog-title">Finish the broadcast of Main stage?</h1>' in html
    assert f'<form method="post" action="/streams/{stream_id}/finish/"' in html
    assert "csrfmiddlewaretoken" in html
    assert f'<a class="button" href="/streams/{stream_id}/">Cancel</a>' in html


def test_without_javascript_an_action_started_from_the_list_returns_to_the_list(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    page = producer_client.get(f"/streams/{stream_id}/finish/?from=list").content.decode()
    assert '<input type="hidden" name="from" value="list">' in page
    assert '<a class="button" href="/streams/">Cancel</a>' in page
    response = act(producer_client, stream_id, "finish", **{"from": "list"})
    assert response.redirect_chain == [("/streams/", 302)]
    assert f"Finished the broadcast of “{NAME}”." in response.content.decode()


def test_the_disable_confirmation_says_who_is_disconnected(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    html = admin_client.get(f"/streams/{stream_id}/disable/", HTTP_HX_REQUEST="true").content.decode()
    assert (
        "Ends the broadcast now and disconnects 214 viewers; the stream will not accept a new broadcast until it "
        "is enabled again." in html
    )


def test_the_delete_confirmation_asks_for_the_name_and_warns_that_the_stream_is_live(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    html = admin_client.get(f"/streams/{stream_id}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "This cannot be undone" in html
    assert "It is live now with 214 viewers: deleting it disconnects the encoder" in html
    assert f'data-confirm-match="{NAME}\n{stream_id}"' in html
    assert 'data-confirm-submit data-pending-label="Deleting…" disabled>Delete stream</button>' in html


def test_a_confirmation_for_an_action_the_state_does_not_allow_offers_nothing_to_submit(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    html = admin_client.get(f"/streams/{stream_id}/finish/", HTTP_HX_REQUEST="true").content.decode()
    assert "There is no broadcast to finish: <strong>Main stage</strong> is idle." in html
    assert "<form" not in html


@pytest.mark.parametrize("action", ["enable", "disable", "finish", "delete"])
def test_a_get_on_an_action_url_changes_nothing(
    admin_client: Client, emulator: EmulatorControl, action: str
) -> None:
    stream_id = make_stream(emulator, "disabled" if action == "enable" else "active")
    before = status_of(emulator, stream_id)
    assert admin_client.get(f"/streams/{stream_id}/{action}/").status_code == 200
    assert mutations(emulator) == []
    assert status_of(emulator, stream_id) == before
    assert not AuditEntry.objects.exists()


def test_the_confirmation_of_a_deleted_stream_says_it_no_longer_exists(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    response = admin_client.get("/streams/0123456789abcdef0123456789abcdef/finish/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only 2xx into the dialog
    assert "This stream no longer exists" in response.content.decode()


# ---------------------------------------------------------------- delete needs the typed name


def test_delete_with_a_wrong_typed_name_sends_nothing(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    response = admin_client.post(f"/streams/{stream_id}/delete/", {"confirm": "Main stag"})
    assert response.status_code == 422
    assert "Type the stream&#x27;s name as shown, or its id, to delete it." in response.content.decode()
    assert mutations(emulator) == []
    assert status_of(emulator, stream_id) == "idle"
    entry = only_entry()  # a refusal is audited too
    assert (entry.action, entry.outcome) == ("delete", "refused")
    # ...and it does not hold the action: the corrected name deletes at once.
    act(admin_client, stream_id, "delete", confirm=NAME)
    assert [r["method"] for r in mutations(emulator)] == ["DELETE"]


@pytest.mark.parametrize("typed", ["main stage", "  Main   stage ", "MAIN STAGE"])
def test_delete_ignores_case_and_whitespace_variants_of_the_name(
    admin_client: Client, emulator: EmulatorControl, typed: str
) -> None:
    stream_id = make_stream(emulator, "idle")
    act(admin_client, stream_id, "delete", confirm=typed)
    assert [r["method"] for r in mutations(emulator)] == ["DELETE"]


def test_delete_ignores_dash_variants_of_the_name(admin_client: Client, emulator: EmulatorControl) -> None:
    stream = emulator.create_stream(status="idle", metadata={"livestream_name": "Main stage — Day 1"})
    emulator.clear_requests()
    act(admin_client, stream["streamId"], "delete", confirm="main stage - day\u00a01")
    assert [r["method"] for r in mutations(emulator)] == ["DELETE"]


def test_delete_accepts_the_stream_id_instead_of_the_name(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    act(admin_client, stream_id, "delete", confirm=f"  {stream_id} ")
    assert [(r["method"], r["path"]) for r in mutations(emulator)] == [
        ("DELETE", f"/v1/live/streams/{stream_id}")
    ]


def test_a_wrong_typed_name_over_htmx_puts_the_form_back_in_the_dialog(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    response = htmx_act(admin_client, stream_id, "delete", confirm="")
    html = response.content.decode()
    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#confirm-dialog-body", "innerHTML")
    assert 'aria-invalid="true" aria-describedby="confirm-name-error" data-autofocus' in html
    assert "Type the stream&#x27;s name or its id to confirm." in html
    assert mutations(emulator) == []


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("role", "action", "state"),
    [
        ("reviewer", "enable", "disabled"),
        ("reviewer", "disable", "active"),
        ("reviewer", "finish", "active"),
        ("reviewer", "delete", "active"),
        ("producer", "delete", "active"),
    ],
)
def test_a_forged_post_for_an_action_the_role_may_not_do_is_refused_and_recorded(
    client: Client, make_user: Any, emulator: EmulatorControl, role: str, action: str, state: str
) -> None:
    client.force_login(make_user(role))
    stream_id = make_stream(emulator, state)
    response = client.post(f"/streams/{stream_id}/{action}/", {"confirm": NAME})
    assert response.status_code == 403
    assert "You can't do that here" in response.content.decode()
    assert emulator.requests() == []  # not even a read: nothing was sent to FastPix
    assert status_of(emulator, stream_id) == state
    entry = only_entry()
    assert (entry.username, entry.action, entry.stream_id, entry.outcome) == (
        f"{role}-user",
        action,
        stream_id,
        "refused",
    )


def test_a_reviewer_cannot_open_a_confirmation(reviewer_client: Client, emulator: EmulatorControl) -> None:
    stream_id = make_stream(emulator, "active")
    assert reviewer_client.get(f"/streams/{stream_id}/finish/").status_code == 403


def test_an_action_without_the_csrf_token_is_rejected(make_user: Any, emulator: EmulatorControl) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin"))
    stream_id = make_stream(emulator, "active")
    assert client.post(f"/streams/{stream_id}/finish/").status_code == 403
    assert emulator.requests() == []
    assert status_of(emulator, stream_id) == "active"


def test_the_list_shows_each_role_only_the_buttons_it_may_use(
    client: Client, make_user: Any, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    client.force_login(make_user("producer"))
    html = client.get("/streams/").content.decode()
    assert f'href="/streams/{stream_id}/finish/?from=list"' in html
    assert f'href="/streams/{stream_id}/disable/?from=list"' in html
    assert f"/streams/{stream_id}/delete/" not in html
    assert f"/streams/{stream_id}/enable/" not in html


# ---------------------------------------------------------------- failures and races


def test_a_server_error_is_audited_as_failed(admin_client: Client, emulator: EmulatorControl) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", status=500, times=None)
    html = act(admin_client, stream_id, "finish").content.decode()
    assert (
        f"FastPix answered with an error (internal server error), and it still reports “{NAME}” live: "
        "it was not finished. Try again." in html
    )
    entry = only_entry()
    assert (entry.outcome, entry.message) == ("failed", "internal server error")
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1  # one click, one PUT
    emulator.clear_faults()
    assert status_of(emulator, stream_id) == "active"


def test_when_fastpix_cannot_even_be_read_nothing_is_sent_and_the_attempt_is_audited(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="GET", status=503, times=None)
    html = act(admin_client, stream_id, "finish").content.decode()
    assert (
        "Could not finish the stream: the console could not read it first, so nothing was sent. "
        "FastPix answered with an error (service unavailable). Try again in a moment." in html
    )
    assert mutations(emulator) == []
    entry = only_entry()
    assert (entry.outcome, entry.message) == (
        "failed",
        "Nothing was sent: the console could not read the stream first (service unavailable).",
    )


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"status": 429}, "FastPix is busy and asked the console to slow down. Try again in a moment."),
        ({"status": 409}, "FastPix said “data conflict”."),
        ({"timeout": True, "hang_seconds": 3}, "FastPix did not answer. Try again in a moment."),
    ],
)
def test_each_reason_the_stream_could_not_be_read_first_is_said(
    admin_client: Client, emulator: EmulatorControl, fault: dict[str, Any], reason: str
) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="GET", times=None, **fault)
    html = act(admin_client, stream_id, "finish").content.decode()
    assert f"the console could not read it first, so nothing was sent. {reason}" in html
    assert mutations(emulator) == []


def test_a_delete_posted_without_the_confirmation_field_asks_for_it(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    response = admin_client.post(f"/streams/{stream_id}/delete/", {})
    assert response.status_code == 422
    assert "Type the stream&#x27;s name or its id to confirm." in response.content.decode()
    assert mutations(emulator) == []


def test_an_action_not_needed_still_shows_the_row_as_fastpix_has_it(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    response = htmx_act(admin_client, stream_id, "enable", **{"from": "list"})
    html = squash(response.content.decode())
    assert f'<td id="status-{stream_id}"><span class="badge badge-idle">Idle</span></td>' in html
    assert f'href="/streams/{stream_id}/disable/?from=list"' in html
    assert mutations(emulator) == []


def test_a_timeout_leaves_the_outcome_unknown_and_shows_the_stream_as_fastpix_has_it(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    # Longer than the tests' FASTPIX_TIMEOUT of 1.5 s; the emulator then answers 504 without finishing.
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", timeout=True, hang_seconds=5)
    response = htmx_act(admin_client, stream_id, "finish", **{"from": "list"})
    html = squash(response.content.decode())
    assert (
        f"FastPix did not answer in time, and it still reports “{NAME}” live: it was not finished. Try again."
        in html
    )
    # The row says what the banner says: live, its viewers, and the Finish button to try again.
    assert f'<td id="status-{stream_id}"><span class="badge badge-active">Live</span></td>' in html
    assert f'<td id="viewers-{stream_id}" class="num">214</td>' in html
    assert f'href="/streams/{stream_id}/finish/?from=list"' in html
    assert only_entry().outcome == "failed"
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1  # never retried blindly


def test_an_action_on_a_deleted_stream_says_it_no_longer_exists(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = "0123456789abcdef0123456789abcdef"
    response = admin_client.post(f"/streams/{stream_id}/finish/")
    assert response.status_code == 404
    assert "This stream no longer exists" in response.content.decode()
    assert mutations(emulator) == []
    entry = only_entry()
    assert (entry.action, entry.outcome, entry.message) == ("finish", "refused", "stream not found")


def test_a_stream_deleted_after_its_confirmation_was_opened_is_reported_gone(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    admin_client.get(f"/streams/{stream_id}/finish/?from=list", HTTP_HX_REQUEST="true")
    admin_client.post(f"/streams/{stream_id}/delete/", {"confirm": NAME})
    response = htmx_act(admin_client, stream_id, "finish", **{"from": "list"})
    html = response.content.decode()
    assert f'<tr id="stream-{stream_id}" hx-swap-oob="delete"></tr>' in html
    assert "This stream no longer exists." in html


def test_a_double_post_sends_one_request(admin_client: Client, emulator: EmulatorControl) -> None:
    stream_id = make_stream(emulator, "active")
    act(admin_client, stream_id, "finish")
    second = act(admin_client, stream_id, "finish").content.decode()
    assert "Nothing to finish: the broadcast had already ended. Nothing was sent to FastPix." in second
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1
    assert list(AuditEntry.objects.order_by("id").values_list("outcome", flat=True)) == ["done", "refused"]


# ---------------------------------------------------------------- in place, with htmx


def test_finishing_from_the_list_updates_the_row_in_place_and_closes_the_dialog(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    response = htmx_act(admin_client, stream_id, "finish", **{"from": "list"})
    html = squash(response.content.decode())
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"streamChanged": {"id": stream_id}, "closeDialog": {}}
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#messages", "none")
    assert f'<tr id="stream-{stream_id}" hx-swap-oob="morph">' in html
    assert f'<td id="status-{stream_id}"><span class="badge badge-idle">Idle</span></td>' in html
    assert f"/streams/{stream_id}/finish/" not in html  # no Finish button on an idle stream
    assert f'href="/streams/{stream_id}/disable/?from=list"' in html
    assert (
        '<div id="messages" hx-swap-oob="innerHTML"><p class="message message-success">Finished the broadcast'
        in html
    )


def test_disabling_from_the_detail_page_updates_status_actions_and_history_in_place(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=214)
    html = squash(htmx_act(admin_client, stream_id, "disable").content.decode())
    assert (
        '<span id="stream-status" hx-swap-oob="morph"><span class="badge badge-disabled">Disabled</span></span>'
        in html
    )
    assert '<div id="stream-actions" class="actions" hx-swap-oob="morph">' in html
    assert f'href="/streams/{stream_id}/enable/"' in html
    assert 'id="stream-history"' in html
    assert "admin-user · Disable · Done" in html


def test_deleting_from_the_list_removes_the_row(admin_client: Client, emulator: EmulatorControl) -> None:
    stream_id = make_stream(emulator, "idle")
    html = htmx_act(admin_client, stream_id, "delete", confirm=NAME, **{"from": "list"}).content.decode()
    assert f'<tr id="stream-{stream_id}" hx-swap-oob="delete"></tr>' in html
    assert f"Deleted “{NAME}”." in html


def test_deleting_from_the_detail_page_goes_back_to_the_list(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    response = htmx_act(admin_client, stream_id, "delete", confirm=NAME)
    assert response["HX-Redirect"] == "/streams/"
    assert f"Deleted “{NAME}”." in admin_client.get("/streams/").content.decode()


def test_the_finish_dialog_says_how_long_the_console_has_seen_it_live(
    producer_client: Client, emulator: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from streams.models import LiveSighting

    stream = emulator.create_stream(status="active", views=214, metadata={"livestream_name": "Main stage"})
    first = producer_client.get(f"/streams/{stream['streamId']}/finish/").content.decode()
    assert "(214 viewers) and finalises the recording" in first  # just seen: no duration claimed
    # First seen live 72 minutes ago, by this process or another: the database says so.
    LiveSighting.objects.filter(stream_id=stream["streamId"]).update(
        since=timezone.now() - timedelta(seconds=4330)
    )
    html = producer_client.get(f"/streams/{stream['streamId']}/finish/").content.decode()
    assert (
        "Ends the broadcast of <strong>Main stage</strong> now (214 viewers, live for at least 1 h 12 min)"
        in html
    )


def test_a_stream_seen_idle_forgets_when_it_went_live(admin_client: Client, emulator: Any) -> None:
    from streams.live import live_for, note_statuses

    note_statuses([("abc", "active")])
    assert live_for("abc") is not None
    note_statuses([("abc", "idle")])
    assert live_for("abc") is None


def test_a_stream_without_a_name_is_deleted_by_typing_its_id(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = str(emulator.create_stream(status="idle")["streamId"])
    dialog = admin_client.get(f"/streams/{stream_id}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert f"the stream's id, <code>{stream_id}</code>" in dialog
    emulator.clear_requests()
    act(admin_client, stream_id, "delete", confirm=stream_id)
    assert [r["method"] for r in mutations(emulator)] == ["DELETE"]
