"""Two console processes on one database with the default (per-process) cache, as `make run` starts them.

What must hold across processes is in the database, so it holds here: 50 identical create submissions
make one stream, two sessions finishing one stream send one PUT, and a retry after a failed finish is
sent. Runs on SQLite in `make test` and on PostgreSQL in `make test-services` (the same test database
the suite uses, shared with the gunicorn processes it starts).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.consoles import console_env, running_consoles, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_consoles(emulator_server: Any, emulator: Any) -> Iterator[list[str]]:
    env = console_env(emulator_server, FASTPIX_TIMEOUT="5", GUNICORN_THREADS="25")
    env.pop("CACHE_URL", None)  # the default: local memory, one per process
    with running_consoles(env) as urls:
        yield urls


def same_session_on(base: str, client: httpx.Client) -> httpx.Client:
    """The same signed-in session, talking to another process (sessions live in the database)."""
    other = httpx.Client(base_url=base, timeout=30, cookies=client.cookies)
    return other


def post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    return client.post(
        path,
        data={**data, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
        headers={"Referer": f"{client.base_url}{path}"},
    )


def create_form(submission: str) -> dict[str, str]:
    return {
        "name": "Keynote",
        "max_resolution": "1080p",
        "reconnect_window": "60",
        "access_policy": "public",
        "media_policy": "public",
        "enable_recording": "on",
        "submission": submission,
        "meta-TOTAL_FORMS": "0",
        "meta-INITIAL_FORMS": "0",
        "meta-MIN_NUM_FORMS": "0",
        "meta-MAX_NUM_FORMS": "50",
    }


def test_fifty_identical_create_submissions_across_two_processes_make_one_stream(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    make_user("admin", "creator")
    first = signed_in(two_consoles[0], "creator")
    clients = [first, same_session_on(two_consoles[1], first)]
    emulator.add_fault(r"^/v1/live/streams$", method="POST", latency_ms=300, times=1)  # a slow FastPix
    form = create_form(str(uuid.uuid4()))
    emulator.clear_requests()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda i: post(clients[i % 2], "/streams/new/", form), range(50)))

    assert len(emulator.requests(path_regex=r"^/v1/live/streams$", method="POST")) == 1
    locations = {answer.headers.get("location") for answer in answers}
    assert all(answer.status_code == 302 for answer in answers), [a.status_code for a in answers]
    assert len(locations) == 1  # every submission was shown the one stream


def test_two_sessions_finishing_one_stream_in_two_processes_send_one_put(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    for trial in range(5):
        stream_id = emulator.create_stream(status="active", metadata={"livestream_name": f"Stage {trial}"})[
            "streamId"
        ]
        make_user("producer", f"producer-a{trial}")
        make_user("producer", f"producer-b{trial}")
        a = signed_in(two_consoles[0], f"producer-a{trial}")
        b = signed_in(two_consoles[1], f"producer-b{trial}")
        emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", latency_ms=200, times=1)
        emulator.clear_requests()

        with ThreadPoolExecutor(max_workers=2) as pool:
            path = f"/streams/{stream_id}/finish/"
            answers = list(pool.map(lambda c, path=path: post(c, path, {}), [a, b]))

        assert [answer.status_code for answer in answers] == [302, 302]
        assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 1, f"trial {trial}"
        assert emulator.stream_state(stream_id)["stream"]["status"] == "idle"


def test_a_retry_after_a_failed_finish_is_sent_from_the_other_process(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    make_user("producer", "producer")
    first = signed_in(two_consoles[0], "producer")
    second = same_session_on(two_consoles[1], first)
    emulator.add_fault(f"/live/streams/{stream_id}/finish$", method="PUT", status=500, times=1)
    emulator.clear_requests()

    failed = post(first, f"/streams/{stream_id}/finish/", {})
    assert failed.status_code == 302
    assert "it was not finished" in first.get(failed.headers["location"]).text
    retried = post(second, f"/streams/{stream_id}/finish/", {})  # at once, from the other process
    assert retried.status_code == 302
    assert "Finished the broadcast of" in second.get(retried.headers["location"]).text
    assert len(emulator.requests(path_regex="/finish$", method="PUT")) == 2
    assert emulator.stream_state(stream_id)["stream"]["status"] == "idle"


def test_a_role_changed_elsewhere_applies_on_the_next_request_in_both_processes(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    from django.contrib.auth.models import Group, User

    stream_id = emulator.create_stream(status="active", metadata={"livestream_name": "Main stage"})[
        "streamId"
    ]
    make_user("producer", "moved")
    clients = [signed_in(base, "moved") for base in two_consoles]
    for client in clients:  # both processes now hold this user and role in their own caches
        assert f"/streams/{stream_id}/finish/" in client.get("/streams/").text

    user = User.objects.get(username="moved")
    user.groups.set([Group.objects.get(name="Reviewer")])  # a third process changes the role

    for client in clients:
        assert f"/streams/{stream_id}/finish/" not in client.get("/streams/").text
        assert post(client, f"/streams/{stream_id}/finish/", {}).status_code == 403
    assert emulator.stream_state(stream_id)["stream"]["status"] == "active"


def test_a_deactivated_user_is_signed_out_in_both_processes(
    two_consoles: list[str], emulator: Any, make_user: Any
) -> None:
    from django.contrib.auth.models import User

    make_user("admin", "leaver")
    clients = [signed_in(base, "leaver") for base in two_consoles]
    for client in clients:
        assert client.get("/streams/").status_code == 200
    User.objects.filter(username="leaver").update(is_active=False)  # no signal: a bulk update
    user = User.objects.get(username="leaver")
    user.save()  # ...and a save, which is what the admin and the command do
    for client in clients:
        response = client.get("/streams/")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/login/")
