"""Many clients mutating at once leave consistent state: every race has exactly one winner."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from emulator.testing import EmulatorControl, EmulatorServer
from tests.emulator.support import data

THREADS = 16


@pytest.fixture(scope="module")
def client(emulator_server: EmulatorServer) -> Iterator[httpx.Client]:
    """One thread-safe client with a connection per thread."""
    auth = (emulator_server.token_id, emulator_server.secret)
    limits = httpx.Limits(max_connections=THREADS)
    with httpx.Client(base_url=emulator_server.api_base, auth=auth, timeout=10, limits=limits) as shared:
        yield shared


@pytest.fixture
def race(client: httpx.Client, control: EmulatorControl) -> Callable[..., list[httpx.Response]]:
    """Fire `count` requests from THREADS threads, released together."""

    def run(method: str, path: str, count: int, json: object = None) -> list[httpx.Response]:
        barrier = threading.Barrier(THREADS, timeout=10)
        started = threading.local()

        def call(_: int) -> httpx.Response:
            if not hasattr(started, "yes"):
                started.yes = barrier.wait()
            return client.request(method, path, json=json)

        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(call, range(count)))

    return run


def test_concurrent_creates_all_land_with_unique_ids(
    api: httpx.Client, race: Callable[..., list[httpx.Response]]
) -> None:
    responses = race("POST", "/live/streams", 200, json={"playbackSettings": {}, "inputMediaSettings": {}})
    assert Counter(r.status_code for r in responses) == {201: 200}
    ids = {r.json()["data"]["streamId"] for r in responses}
    assert len(ids) == 200
    listed = set()
    for page in range(1, 5):
        listed |= {
            s["streamId"]
            for s in api.get("/live/streams", params={"limit": 50, "offset": page}).json()["data"]
        }
    assert listed == ids
    assert api.get("/live/streams").json()["pagination"]["totalRecords"] == 200


def test_concurrent_finishes_have_one_winner_and_one_recording(
    api: httpx.Client, control: EmulatorControl, race: Callable[..., list[httpx.Response]]
) -> None:
    stream_id = control.create_stream(status="active")["streamId"]
    responses = race("PUT", f"/live/streams/{stream_id}/finish", 48)
    assert Counter(r.status_code for r in responses) == {200: 1, 400: 47}
    assert len(data(api.get(f"/live/streams/{stream_id}"))["mediaIds"]) == 1


def test_concurrent_disables_have_one_winner(
    api: httpx.Client, control: EmulatorControl, race: Callable[..., list[httpx.Response]]
) -> None:
    stream_id = control.create_stream()["streamId"]
    responses = race("PUT", f"/live/streams/{stream_id}/live-disable", 48)
    assert Counter(r.status_code for r in responses) == {200: 1, 400: 47}
    assert {r.json()["error"]["message"] for r in responses if r.status_code == 400} == {
        "stream already disabled"
    }


def test_concurrent_deletes_have_one_winner(
    control: EmulatorControl, race: Callable[..., list[httpx.Response]]
) -> None:
    stream_id = control.create_stream(status="active")["streamId"]
    responses = race("DELETE", f"/live/streams/{stream_id}", 32)
    assert Counter(r.status_code for r in responses) == {200: 1, 404: 31}


def test_mixed_mutations_from_many_threads_leave_a_consistent_stream(
    client: httpx.Client, api: httpx.Client, control: EmulatorControl
) -> None:
    stream_id = control.create_stream()["streamId"]

    def worker(index: int) -> list[int]:
        statuses = []
        for step in range(20):
            if step % 4 == 0:
                response = client.put(f"/live/streams/{stream_id}/live-disable")
            elif step % 4 == 1:
                response = client.put(f"/live/streams/{stream_id}/live-enable")
            else:
                metadata = {"writer": str(index), "step": str(step)}
                response = client.patch(f"/live/streams/{stream_id}", json={"metadata": metadata})
            statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(8) as pool:
        results = [code for codes in pool.map(worker, range(8)) for code in codes]
    assert set(results) <= {200, 400}
    stream = data(api.get(f"/live/streams/{stream_id}"))
    assert stream["status"] in ("idle", "disabled")
    # Whatever won last, the map was replaced whole, never merged from two writers.
    assert set(stream.get("metadata", {"writer": "", "step": ""})) == {"writer", "step"}
    assert len(control.requests(path_regex=stream_id)) == 160 + 1  # and the GET just above
