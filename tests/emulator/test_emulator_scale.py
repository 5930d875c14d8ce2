"""A workspace at scale (issue 12, item 10): 10,000 streams with 500 live, listed page by page."""

from __future__ import annotations

from collections import Counter

import httpx

from emulator.testing import EmulatorControl
from tests.emulator.support import data


def walk(api: httpx.Client, order: str) -> tuple[list[dict[str, object]], dict[str, int]]:
    """Every stream, by following the list's pagination to its last page."""
    streams: list[dict[str, object]] = []
    offset, pages = 1, 1
    first: dict[str, int] = {}
    while offset <= pages:
        response = api.get("/live/streams", params={"limit": 50, "offset": offset, "orderBy": order})
        assert response.status_code == 200, response.text
        body = response.json()
        first = first or body["pagination"]
        pages = body["pagination"]["offsetCount"]
        streams += body["data"]
        offset += 1
    return streams, first


def test_seeding_ten_thousand_streams_with_five_hundred_live_shows_in_the_list_totals(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.reset(seed=10_000, live=500)
    newest_first, pagination = walk(api, "desc")
    assert pagination == {"totalRecords": 10_000, "currentOffset": 1, "offsetCount": 200}
    statuses = Counter(stream["status"] for stream in newest_first)
    assert statuses["active"] == 500
    assert statuses["preparing"] == 0
    assert sum(statuses.values()) == 10_000
    assert len({stream["streamId"] for stream in newest_first}) == 10_000
    created = [stream["createdAt"] for stream in newest_first]
    assert created == sorted(created, reverse=True)
    oldest_first, _ = walk(api, "asc")
    assert [s["streamId"] for s in oldest_first] == [s["streamId"] for s in reversed(newest_first)]


def test_pages_stay_in_order_as_streams_come_and_go(api: httpx.Client, control: EmulatorControl) -> None:
    control.reset(seed=120)
    before, _ = walk(api, "desc")
    gone = [str(stream["streamId"]) for stream in before[::7]]
    for stream_id in gone:
        assert api.delete(f"/live/streams/{stream_id}").status_code == 200
    body = {"playbackSettings": {}, "inputMediaSettings": {}}
    added = data(api.post("/live/streams", json=body), 201)["streamId"]
    after, pagination = walk(api, "desc")
    expected = [added] + [s["streamId"] for s in before if s["streamId"] not in gone]
    assert [s["streamId"] for s in after] == expected
    assert pagination["totalRecords"] == len(expected)
    last_page = api.get("/live/streams", params={"limit": 50, "offset": 3, "orderBy": "asc"}).json()
    assert [s["streamId"] for s in last_page["data"]] == list(reversed(expected))[100:]
    beyond = api.get("/live/streams", params={"limit": 50, "offset": 4}).json()
    assert beyond["data"] == []
