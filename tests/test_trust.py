"""Every click does what it says (issue "Trust"): a failed attempt never blocks the next one, one click
sends one mutation, an uncertain answer is settled by a re-read, and every attempt is audited.

Over real HTTP to the emulator; its request log shows what reached FastPix.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from emulator.testing import EmulatorControl
from streams.models import ActionAttempt, AuditEntry

NAME = "Main stage"


def make_stream(emulator: EmulatorControl, status: str, **fields: Any) -> str:
    stream = emulator.create_stream(status=status, metadata={"livestream_name": NAME}, **fields)
    emulator.clear_requests()
    return str(stream["streamId"])


def status_of(emulator: EmulatorControl, stream_id: str) -> str:
    return str(emulator.stream_state(stream_id)["stream"]["status"])


def puts(emulator: EmulatorControl, path_regex: str) -> int:
    return len(emulator.requests(path_regex=path_regex, method="PUT"))


def act(client: Client, stream_id: str, action: str, **data: str) -> str:
    return str(client.post(f"/streams/{stream_id}/{action}/", data, follow=True).content.decode())


def outcomes() -> list[tuple[str, str]]:
    return list(AuditEntry.objects.order_by("id").values_list("action", "outcome"))


@pytest.mark.django_db
def test_a_retry_right_after_a_failed_finish_is_sent_and_finishes(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", status=500, times=1)

    first = act(producer_client, stream_id, "finish")
    assert "it was not finished. Try again." in first
    assert status_of(emulator, stream_id) == "active"

    second = act(producer_client, stream_id, "finish")  # at once, well within the old 5 s lock
    assert f"Finished the broadcast of “{NAME}”." in second
    assert status_of(emulator, stream_id) == "idle"
    assert puts(emulator, "/finish$") == 2
    assert outcomes() == [("finish", "failed"), ("finish", "done")]
    assert not ActionAttempt.objects.filter(finished_at__isnull=True).exists()


@pytest.mark.django_db
def test_disable_enable_disable_in_quick_succession_each_reach_fastpix(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    act(admin_client, stream_id, "disable")
    act(admin_client, stream_id, "enable")
    third = act(admin_client, stream_id, "disable")
    assert f"Disabled “{NAME}”" in third
    assert status_of(emulator, stream_id) == "disabled"
    assert puts(emulator, "/live-disable$") == 2
    assert puts(emulator, "/live-enable$") == 1
    assert outcomes() == [("disable", "done"), ("enable", "done"), ("disable", "done")]


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 502, 503, 524])
def test_one_click_sends_one_put_even_when_fastpix_answers_with_a_server_error(
    producer_client: Client, emulator: EmulatorControl, status: int
) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", status=status, times=None)
    act(producer_client, stream_id, "finish")
    assert puts(emulator, "/finish$") == 1


@pytest.mark.django_db
def test_a_server_error_after_fastpix_acted_is_reported_as_done_from_the_re_read(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", status=500, times=1, apply=True)
    html = act(producer_client, stream_id, "finish")
    assert f"Finished the broadcast of “{NAME}”." in html
    assert "FastPix answered with an error (internal server error), but it now reports it idle." in html
    assert puts(emulator, "/finish$") == 1
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.message) == ("done", "internal server error")


@pytest.mark.django_db
def test_a_timeout_after_fastpix_acted_shows_the_stream_idle_everywhere_on_the_page(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active", views=40)
    emulator.add_fault(
        f"/live/streams/{stream_id}/finish$", method="PUT", timeout=True, hang_seconds=3, apply=True
    )
    response = producer_client.post(f"/streams/{stream_id}/finish/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    # The banner, the badge, the viewers and the buttons all say the same thing: it is idle now.
    assert "FastPix did not answer in time, but it now reports it idle." in html
    assert '<span class="badge badge-idle">Idle</span>' in html
    assert "badge-active" not in html
    assert f"/streams/{stream_id}/finish/" not in html
    assert AuditEntry.objects.get().outcome == "done"


@pytest.mark.django_db
def test_a_malformed_answer_to_a_put_is_settled_by_the_re_read(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    emulator.add_fault(
        f"/live/streams/{stream_id}/live-disable$", method="PUT", raw_body="<html>ok</html>", times=1
    )
    html = act(producer_client, stream_id, "disable")
    assert (
        f"The answer from FastPix could not be read, and it still reports “{NAME}” idle: it was not disabled."
        in html
    )
    assert AuditEntry.objects.get().outcome == "failed"


@pytest.mark.django_db
def test_a_mistyped_delete_name_frees_the_action_at_once(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    admin_client.post(f"/streams/{stream_id}/delete/", {"confirm": "wrong"})
    assert not ActionAttempt.objects.filter(finished_at__isnull=True).exists()
    assert ActionAttempt.objects.get().outcome == "refused"


@pytest.mark.django_db
def test_the_action_lock_outlasts_the_longest_call_it_guards(settings: Any) -> None:
    # Read + PUT (+ one wait of at most the Retry-After cap) + re-read, each up to FASTPIX_TIMEOUT.
    from streams import inflight

    settings.FASTPIX_TIMEOUT = 10
    assert inflight.lock_seconds() > 4 * 10 + inflight.MAX_RETRY_AFTER


@pytest.mark.django_db
def test_a_lock_left_by_a_process_that_died_is_closed_as_unknown_and_taken(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    stream_id = make_stream(emulator, "active")
    now = timezone.now()
    dead = ActionAttempt.objects.create(
        stream_id=stream_id,
        action="finish",
        started_at=now - timedelta(hours=1),
        expires_at=now - timedelta(minutes=1),
    )
    html = act(producer_client, stream_id, "finish")
    assert f"Finished the broadcast of “{NAME}”." in html
    dead.refresh_from_db()
    assert (dead.outcome, dead.finished_at is not None) == ("unknown", True)


@pytest.mark.django_db(transaction=True)
def test_a_lock_still_in_time_makes_the_second_click_wait_for_the_first_result(
    client: Client, make_user: Any, emulator: EmulatorControl
) -> None:
    producer_client = client
    producer_client.force_login(make_user("producer"))
    from datetime import timedelta

    from django.utils import timezone

    stream_id = make_stream(emulator, "active")
    now = timezone.now()
    first = ActionAttempt.objects.create(
        stream_id=stream_id, action="finish", started_at=now, expires_at=now + timedelta(seconds=30)
    )

    def first_attempt_ends() -> None:
        try:
            ActionAttempt.objects.filter(pk=first.pk).update(
                finished_at=timezone.now(),
                outcome="done",
                level=25,
                text="Finished the broadcast of “Main stage”.",
            )
        finally:
            connection.close()

    timer = threading.Timer(0.5, first_attempt_ends)
    timer.start()
    html = act(producer_client, stream_id, "finish")
    timer.join()
    assert "That finish was already sent (another click or tab), so it was not sent twice." in html
    assert "Finished the broadcast of “Main stage”." in html
    assert puts(emulator, "/finish$") == 0
    entry = AuditEntry.objects.get()
    assert (entry.outcome, entry.message) == (
        "duplicate",
        "Not sent: the same finish was already in flight (its result: done).",
    )


@pytest.mark.django_db(transaction=True)
def test_two_tabs_finishing_at_once_send_one_put_and_both_learn_the_result(
    make_user: Any, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "active")
    make_user("producer", "one")
    make_user("producer", "two")
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", latency_ms=500, times=1)
    pages: list[str] = []

    def finish(username: str) -> None:
        from django.contrib.auth.models import User

        client = Client()
        client.force_login(User.objects.get(username=username))
        try:
            pages.append(act(client, stream_id, "finish"))
        finally:
            connection.close()  # this thread's own connection, or the test database cannot be dropped

    threads = [threading.Thread(target=finish, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert puts(emulator, "/finish$") == 1
    assert all(f"“{NAME}”" in page for page in pages)
    assert sorted(outcome for _, outcome in outcomes()) in (["done", "duplicate"], ["done", "refused"])
    assert status_of(emulator, stream_id) == "idle"


@pytest.mark.django_db
def test_a_reveal_that_fastpix_could_not_answer_is_audited(
    producer_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="GET", status=503, times=None)
    response = producer_client.post(f"/streams/{stream_id}/reveal/", {"secret": "stream_key"})
    assert response.status_code == 503
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("reveal", "failed")
    assert entry.message.startswith("Stream key not revealed:")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"method": "GET", "status": 503, "times": None}, "failed"),  # the read before the PATCH
        ({"method": "PATCH", "status": 500, "times": 1}, "failed"),
        ({"method": "PATCH", "timeout": True, "hang_seconds": 3, "times": 1}, "failed"),
    ],
)
def test_every_failed_edit_is_audited(
    admin_client: Client, emulator: EmulatorControl, fault: dict[str, Any], outcome: str
) -> None:
    stream_id = make_stream(emulator, "idle")
    form = admin_client.get(f"/streams/{stream_id}/edit/").content.decode()
    import re

    original = re.search(r'name="original" value="([^"]*)"', form)
    assert original is not None
    emulator.add_fault(f"/live/streams/{stream_id}$", **fault)
    admin_client.post(
        f"/streams/{stream_id}/edit/",
        {
            "reconnect_window": "300",
            "original": original.group(1),
            "meta-TOTAL_FORMS": "1",
            "meta-INITIAL_FORMS": "0",
            "meta-0-key": "livestream_name",
            "meta-0-value": NAME,
        },
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome) == ("edit", outcome)


@pytest.mark.django_db
def test_an_edit_whose_answer_was_lost_but_saved_says_saved(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    form = admin_client.get(f"/streams/{stream_id}/edit/").content.decode()
    import re

    original = re.search(r'name="original" value="([^"]*)"', form)
    assert original is not None
    emulator.add_fault(f"/live/streams/{stream_id}$", method="PATCH", status=502, times=1, apply=True)
    response = admin_client.post(
        f"/streams/{stream_id}/edit/",
        {
            "reconnect_window": "300",
            "original": original.group(1),
            "meta-TOTAL_FORMS": "1",
            "meta-INITIAL_FORMS": "0",
            "meta-0-key": "livestream_name",
            "meta-0-value": NAME,
        },
        follow=True,
    )
    assert "Saved. FastPix has the new metadata and reconnect window." in response.content.decode()
    assert emulator.stream_state(stream_id)["stream"]["reconnectWindow"] == 300
    assert AuditEntry.objects.get().outcome == "done"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "path", "data", "action"),
    [
        ("producer", "/streams/new/", {"name": "x"}, "create"),
        ("reviewer", "/streams/{id}/edit/", {"reconnect_window": "90"}, "edit"),
        ("reviewer", "/streams/{id}/reveal/", {"secret": "stream_key"}, "reveal"),
        ("reviewer", "/streams/{id}/finish/", {}, "finish"),
    ],
)
def test_a_post_the_role_may_not_make_is_refused_audited_and_never_sent(
    client: Client,
    make_user: Any,
    emulator: EmulatorControl,
    role: str,
    path: str,
    data: dict[str, str],
    action: str,
) -> None:
    stream_id = make_stream(emulator, "active")
    client.force_login(make_user(role))
    response = client.post(path.format(id=stream_id), data)
    assert response.status_code == 403
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.username) == (action, "refused", f"{role}-user")
    assert [r for r in emulator.requests() if r["method"] != "GET"] == []


@pytest.mark.django_db
def test_a_create_form_with_errors_is_audited_as_refused(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    response = admin_client.post("/streams/new/", {"name": "Stage", "reconnect_window": "5"})
    assert response.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.outcome, entry.stream_name) == ("create", "refused", "Stage")
    assert emulator.requests(method="POST") == []


def edit_form(client: Client, stream_id: str, window: str) -> dict[str, str]:
    import re

    page = client.get(f"/streams/{stream_id}/edit/").content.decode()
    original = re.search(r'name="original" value="([^"]*)"', page)
    assert original is not None
    return {
        "reconnect_window": window,
        "original": original.group(1),
        "meta-TOTAL_FORMS": "1",
        "meta-INITIAL_FORMS": "0",
        "meta-0-key": "livestream_name",
        "meta-0-value": NAME,
    }


@pytest.mark.django_db
def test_a_save_submitted_twice_sends_one_patch(admin_client: Client, emulator: EmulatorControl) -> None:
    stream_id = make_stream(emulator, "idle")
    form = edit_form(admin_client, stream_id, "240")
    admin_client.post(f"/streams/{stream_id}/edit/", form)
    again = admin_client.post(f"/streams/{stream_id}/edit/", form, follow=True).content.decode()
    assert "Saved. FastPix already had these values, so nothing needed sending." in again
    assert len(emulator.requests(method="PATCH")) == 1
    second = AuditEntry.objects.order_by("id").last()
    assert second is not None
    assert (second.outcome, second.message) == ("done", "Not sent: FastPix already had these values.")
    assert second.after == {"metadata": {"livestream_name": NAME}, "reconnectWindow": 240}


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_once_send_one_patch_and_both_are_told_it_was_saved(
    client: Client, make_user: Any, emulator: EmulatorControl
) -> None:
    from django.contrib.auth.models import User

    stream_id = make_stream(emulator, "idle")
    make_user("admin", "editor")
    client.force_login(User.objects.get(username="editor"))
    form = edit_form(client, stream_id, "240")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="PATCH", latency_ms=500, times=1)
    pages: list[str] = []

    def save() -> None:
        tab = Client()
        tab.force_login(User.objects.get(username="editor"))
        try:
            pages.append(tab.post(f"/streams/{stream_id}/edit/", form, follow=True).content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(emulator.requests(method="PATCH")) == 1
    assert len(pages) == 2
    assert all("saved" in page.lower() for page in pages)
    assert sorted(o for a, o in outcomes() if a == "edit") in (["done", "duplicate"], ["done", "done"])


@pytest.mark.django_db
def test_a_delete_answered_with_a_server_error_after_fastpix_deleted_is_reported_deleted(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="DELETE", status=502, times=1, apply=True)
    html = act(admin_client, stream_id, "delete", confirm=NAME)
    assert (
        f"Deleted “{NAME}”. (FastPix answered with an error (bad gateway), but the stream is gone.)" in html
    )
    assert AuditEntry.objects.get().outcome == "done"


@pytest.mark.django_db
def test_a_delete_answered_with_a_server_error_that_did_not_delete_says_so(
    admin_client: Client, emulator: EmulatorControl
) -> None:
    stream_id = make_stream(emulator, "idle")
    emulator.add_fault(f"/live/streams/{stream_id}$", method="DELETE", status=502, times=1)
    html = act(admin_client, stream_id, "delete", confirm=NAME)
    assert f"and it still reports “{NAME}” idle: it was not deleted. Try again." in html
    assert status_of(emulator, stream_id) == "idle"
    assert AuditEntry.objects.get().outcome == "failed"
