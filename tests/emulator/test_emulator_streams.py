"""Live-stream endpoints over real HTTP: shapes, defaults, pagination, metadata semantics (contract §3, §9)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from emulator.testing import EmulatorControl
from tests.emulator.support import HEX32, TIMESTAMP, UUID4, assert_error, assert_fields, data

STREAM_KEYS = [
    "streamId",
    "streamKey",
    "srtSecret",
    "trial",
    "status",
    "maxResolution",
    "maxDuration",
    "createdAt",
    "reconnectWindow",
    "enableRecording",
    "enableDvrMode",
    "mediaPolicy",
    "lowLatency",
    "closedCaptions",
    "playbackIds",
    "srtPlaybackResponse",
]


def create(api: httpx.Client, **input_media: object) -> dict:
    body = {"playbackSettings": {}, "inputMediaSettings": input_media}
    return data(api.post("/live/streams", json=body), 201)


def test_create_with_empty_settings_returns_201_and_an_idle_stream_with_vendor_defaults(
    api: httpx.Client,
) -> None:
    stream = create(api)
    # Seed002 sends exactly this body; defaults per A13, and no mediaIds/metadata keys when empty.
    assert list(stream) == STREAM_KEYS
    assert stream["status"] == "idle"
    assert stream["trial"] is False
    assert stream["maxResolution"] == "1080p"
    assert stream["maxDuration"] == 28800
    assert stream["reconnectWindow"] == 60
    assert stream["enableRecording"] is True
    assert stream["enableDvrMode"] is False
    assert stream["lowLatency"] is False
    assert stream["closedCaptions"] is False
    assert stream["mediaPolicy"] == "public"
    assert stream["playbackIds"] == [{"id": stream["playbackIds"][0]["id"], "accessPolicy": "public"}]


def test_created_ids_have_the_vendor_shapes(api: httpx.Client) -> None:
    stream = create(api)
    stream_id = stream["streamId"]
    assert HEX32.fullmatch(stream_id)
    secret = re.compile(rf"[0-9a-f]{{32}}k{stream_id}")  # contract §1.3
    assert secret.fullmatch(stream["streamKey"])
    assert secret.fullmatch(stream["srtSecret"])
    assert stream["streamKey"] != stream["srtSecret"]
    srt = stream["srtPlaybackResponse"]
    assert srt["srtPlaybackStreamId"] == "play" + stream_id
    assert secret.fullmatch(srt["srtPlaybackSecret"])
    assert UUID4.fullmatch(stream["playbackIds"][0]["id"])
    assert TIMESTAMP.fullmatch(stream["createdAt"])


def test_create_honours_every_documented_setting(api: httpx.Client) -> None:
    body = {
        "playbackSettings": {"accessPolicy": "private"},
        "inputMediaSettings": {
            "maxResolution": "720p",
            "reconnectWindow": 300,
            "mediaPolicy": "private",
            "metadata": {"livestream_name": "Keynote — Hall B"},
            "enableDvrMode": True,
            "enableRecording": False,
        },
    }
    stream = data(api.post("/live/streams", json=body), 201)
    assert stream["playbackIds"][0]["accessPolicy"] == "private"
    assert stream["maxResolution"] == "720p"
    assert stream["reconnectWindow"] == 300
    assert stream["mediaPolicy"] == "private"
    assert stream["metadata"] == {"livestream_name": "Keynote — Hall B"}
    assert stream["enableDvrMode"] is True
    assert stream["enableRecording"] is False
    assert data(api.get(f"/live/streams/{stream['streamId']}")) == stream


def test_create_stores_and_echoes_access_restrictions_on_the_playback_id(api: httpx.Client) -> None:
    restrictions = {"domains": {"defaultPolicy": "deny", "allow": ["example.com"], "deny": []}}
    body = {"playbackSettings": {"accessRestrictions": restrictions}, "inputMediaSettings": {}}
    stream = data(api.post("/live/streams", json=body), 201)
    assert stream["playbackIds"][0]["accessRestrictions"] == restrictions


def test_create_ignores_unknown_fields(api: httpx.Client) -> None:
    body = {"playbackSettings": {"x": 1}, "inputMediaSettings": {"lowLatency": True}, "simulcast": []}
    stream = data(api.post("/live/streams", json=body), 201)
    assert stream["lowLatency"] is False


def test_get_omits_metadata_media_ids_and_simulcasts_when_empty(api: httpx.Client) -> None:
    stream = create(api)
    fetched = data(api.get(f"/live/streams/{stream['streamId']}"))
    assert "metadata" not in fetched
    assert "mediaIds" not in fetched
    assert "simulcastResponses" not in fetched


def test_get_includes_media_ids_and_simulcasts_when_present(
    api: httpx.Client, control: EmulatorControl
) -> None:
    stream = control.create_stream()
    media = control.create_media(stream["streamId"])
    body = {"url": "rtmp://live.twitch.tv/app/", "streamKey": "live_abc"}
    simulcast = data(api.post(f"/live/streams/{stream['streamId']}/simulcast", json=body), 201)
    fetched = data(api.get(f"/live/streams/{stream['streamId']}"))
    assert fetched["mediaIds"] == [media["id"]]
    assert fetched["simulcastResponses"] == [simulcast]
    keys = list(fetched)
    assert keys.index("playbackIds") < keys.index("simulcastResponses") < keys.index("mediaIds")


def test_get_unknown_stream_is_404_stream_not_found(api: httpx.Client) -> None:
    assert_error(
        api.get("/live/streams/0123456789abcdef0123456789abcdef"),
        404,
        "stream not found",
        "The requested resource (eg:streamId) doesn't exist in the workspace",
    )


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("GET", "/viewer-count"),
        ("PATCH", ""),
        ("DELETE", ""),
        ("PUT", "/live-enable"),
        ("PUT", "/live-disable"),
        ("PUT", "/finish"),
        ("POST", "/playback-ids"),
        ("POST", "/simulcast"),
    ],
)
def test_every_stream_operation_on_an_unknown_id_is_404_stream_not_found(
    api: httpx.Client, method: str, suffix: str
) -> None:
    body = {"url": "rtmp://a/", "streamKey": "k"} if suffix == "/simulcast" else {}
    response = api.request(method, f"/live/streams/no-such-stream{suffix}", json=body)
    assert_error(response, 404, "stream not found")


def test_viewer_count_is_the_set_count_while_active(api: httpx.Client, control: EmulatorControl) -> None:
    stream = control.create_stream(status="active", views=214)
    assert data(api.get(f"/live/streams/{stream['streamId']}/viewer-count")) == {"views": 214}


@pytest.mark.parametrize("status", ["idle", "preparing", "disabled"])
def test_viewer_count_is_zero_unless_active(api: httpx.Client, control: EmulatorControl, status: str) -> None:
    stream = control.create_stream(status=status)
    control.set_viewers(stream["streamId"], 50)
    assert data(api.get(f"/live/streams/{stream['streamId']}/viewer-count")) == {"views": 0}


def test_delete_removes_the_stream_so_get_is_404(api: httpx.Client) -> None:
    stream = create(api)
    response = api.delete(f"/live/streams/{stream['streamId']}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert_error(api.get(f"/live/streams/{stream['streamId']}"), 404, "stream not found")
    assert_error(api.delete(f"/live/streams/{stream['streamId']}"), 404, "stream not found")


class TestMetadataReplaceSemantics:
    """PATCH replaces the whole map when present, keeps it when absent, clears it with {} (A5)."""

    def test_patch_replaces_the_whole_map(self, api: httpx.Client) -> None:
        stream = create(api, metadata={"livestream_name": "Main stage", "room": "A"})
        patched = data(api.patch(f"/live/streams/{stream['streamId']}", json={"metadata": {"live": "tech"}}))
        assert patched["metadata"] == {"live": "tech"}
        assert data(api.get(f"/live/streams/{stream['streamId']}"))["metadata"] == {"live": "tech"}

    def test_patch_without_metadata_keeps_it_and_updates_the_reconnect_window(
        self, api: httpx.Client
    ) -> None:
        stream = create(api, metadata={"livestream_name": "Main stage"})
        patched = data(api.patch(f"/live/streams/{stream['streamId']}", json={"reconnectWindow": 900}))
        assert patched["metadata"] == {"livestream_name": "Main stage"}
        assert patched["reconnectWindow"] == 900

    def test_patch_with_empty_metadata_clears_it_and_the_key_disappears(self, api: httpx.Client) -> None:
        stream = create(api, metadata={"livestream_name": "Main stage"})
        patched = data(api.patch(f"/live/streams/{stream['streamId']}", json={"metadata": {}}))
        assert "metadata" not in patched
        assert "metadata" not in data(api.get(f"/live/streams/{stream['streamId']}"))

    def test_patch_without_reconnect_window_keeps_it(self, api: httpx.Client) -> None:
        stream = create(api, reconnectWindow=600)
        patched = data(api.patch(f"/live/streams/{stream['streamId']}", json={"metadata": {"a": "b"}}))
        assert patched["reconnectWindow"] == 600

    def test_patch_response_never_carries_media_ids_or_simulcasts(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream = control.create_stream()
        control.create_media(stream["streamId"])
        patched = data(api.patch(f"/live/streams/{stream['streamId']}", json={"metadata": {"a": "b"}}))
        assert "mediaIds" not in patched
        assert "simulcastResponses" not in patched
        assert list(patched) == [*STREAM_KEYS[:12], "metadata", *STREAM_KEYS[12:]]


class TestPagination:
    """`offset` is a 1-based page, `offsetCount` the number of pages (contract §1.8, A1, A2)."""

    @staticmethod
    def make(control: EmulatorControl, count: int) -> list[str]:
        """`count` streams, created one minute apart, oldest first."""
        start = datetime(2025, 11, 25, 9, 46, 38, 323193, tzinfo=UTC)
        ids = []
        for index in range(count):
            created = (start + timedelta(minutes=index)).isoformat().replace("+00:00", "Z")
            ids.append(control.create_stream(createdAt=created)["streamId"])
        return ids

    @staticmethod
    def listing(api: httpx.Client, **params: object) -> tuple[list[str], dict]:
        response = api.get("/live/streams", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        return [s["streamId"] for s in body["data"]], body["pagination"]

    def test_empty_workspace_lists_nothing_with_zero_pages(self, api: httpx.Client) -> None:
        assert self.listing(api) == ([], {"totalRecords": 0, "currentOffset": 1, "offsetCount": 0})

    def test_defaults_are_ten_per_page_first_page_newest_first(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        ids = self.make(control, 12)
        listed, pagination = self.listing(api)
        assert listed == ids[::-1][:10]
        assert pagination == {"totalRecords": 12, "currentOffset": 1, "offsetCount": 2}

    def test_order_by_asc_is_oldest_first(self, api: httpx.Client, control: EmulatorControl) -> None:
        ids = self.make(control, 3)
        # The seed's own example: offset=1 returns all three, oldest first (seed001:L12, L107-111).
        listed, pagination = self.listing(api, limit=10, offset=1, orderBy="asc")
        assert listed == ids
        assert pagination == {"totalRecords": 3, "currentOffset": 1, "offsetCount": 1}

    def test_last_page_holds_the_remainder(self, api: httpx.Client, control: EmulatorControl) -> None:
        ids = self.make(control, 23)
        listed, pagination = self.listing(api, limit=10, offset=3, orderBy="asc")
        assert listed == ids[20:]
        assert pagination == {"totalRecords": 23, "currentOffset": 3, "offsetCount": 3}

    def test_a_page_past_the_end_is_200_and_empty_with_the_true_total(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        self.make(control, 23)
        assert self.listing(api, limit=10, offset=4) == (
            [],
            {"totalRecords": 23, "currentOffset": 4, "offsetCount": 3},
        )

    def test_limit_fifty_is_allowed_and_pages_split_at_fifty(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        ids = self.make(control, 51)
        first, pagination = self.listing(api, limit=50, orderBy="asc")
        assert first == ids[:50]
        assert pagination == {"totalRecords": 51, "currentOffset": 1, "offsetCount": 2}
        assert self.listing(api, limit=50, offset=2, orderBy="asc")[0] == ids[50:]

    def test_limit_one_pages_one_stream_at_a_time(self, api: httpx.Client, control: EmulatorControl) -> None:
        ids = self.make(control, 4)
        # The spec's example: totalRecords 4, offsetCount 4 with one stream in data (spec:L9841-9870).
        assert self.listing(api, limit=1, offset=2) == (
            [ids[2]],
            {"totalRecords": 4, "currentOffset": 2, "offsetCount": 4},
        )

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"offset": 0}, [("offset", "must be greater than or equal to 1")]),
            ({"offset": -1}, [("offset", "must be greater than or equal to 1")]),
            ({"limit": 51}, [("limit", "must be between 1 and 50")]),
            ({"limit": 0}, [("limit", "must be between 1 and 50")]),
            ({"limit": "ten"}, [("limit", "must be an integer")]),
            ({"offset": "1.5"}, [("offset", "must be an integer")]),
            ({"orderBy": "newest"}, [("orderBy", "must be one of [asc, desc]")]),
            (
                {"offset": 0, "limit": 51},
                [("offset", "must be greater than or equal to 1"), ("limit", "must be between 1 and 50")],
            ),
        ],
    )
    def test_bad_paging_parameters_are_422_with_fields(
        self, api: httpx.Client, params: dict, expected: list[tuple[str, str]]
    ) -> None:
        assert_fields(api.get("/live/streams", params=params), *expected)

    def test_list_items_are_full_stream_objects(self, api: httpx.Client, control: EmulatorControl) -> None:
        stream = control.create_stream(metadata={"livestream_name": "Main stage"})
        control.create_media(stream["streamId"])
        listed = api.get("/live/streams").json()["data"]
        assert listed == [data(api.get(f"/live/streams/{stream['streamId']}"))]


class TestLivePlaybackIds:
    def test_create_returns_201_with_a_uuid_and_the_stream_lists_it(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        created = data(
            api.post(f"/live/streams/{stream_id}/playback-ids", json={"accessPolicy": "public"}), 201
        )
        assert UUID4.fullmatch(created["id"])
        assert created == {"id": created["id"], "accessPolicy": "public"}
        assert created in data(api.get(f"/live/streams/{stream_id}"))["playbackIds"]

    def test_delete_by_path_is_a_tolerated_alias_of_the_query_form(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream = control.create_stream()
        playback_id = stream["playbackIds"][0]["id"]
        response = api.delete(f"/live/streams/{stream['streamId']}/playback-ids/{playback_id}")  # A11
        assert response.json() == {"success": True}
        assert data(api.get(f"/live/streams/{stream['streamId']}"))["playbackIds"] == []
        # Only the documented methods are advertised.
        allow = api.put(f"/live/streams/{stream['streamId']}/playback-ids/{playback_id}").headers["allow"]
        assert allow == "GET, HEAD"

    @pytest.mark.parametrize("known_stream", [True, False])
    def test_unknown_playback_ids_are_404_stream_playback_id_not_found(
        self, api: httpx.Client, control: EmulatorControl, known_stream: bool
    ) -> None:
        stream_id = control.create_stream()["streamId"] if known_stream else "no-such-stream"
        path = f"/live/streams/{stream_id}/playback-ids"
        missing = "88b7ac0f-2504-4dd5-b7b4-d84ab4fee1bd"
        assert_error(api.get(f"{path}/{missing}"), 404, "stream/playbackId not found")
        assert_error(api.delete(path, params={"playbackId": missing}), 404, "stream/playbackId not found")
