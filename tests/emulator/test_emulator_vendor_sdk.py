"""The vendor's own Python SDK (fastpix_python 1.2.0) pointed at the emulator.

It proves the emulator speaks the wire format the vendor's generated client expects: paths, verbs, auth,
status codes, JSON shapes, and the Content-Type that makes typed errors work (contract §1.4, A26).
"""

from __future__ import annotations

from collections.abc import Iterator

import pydantic
import pytest
from fastpix_python import Fastpix, errors, models
from fastpix_python.utils import BackoffStrategy, RetryConfig

from emulator.testing import EmulatorControl, EmulatorServer

# Never retry: the SDK's default retries 5xx for up to an hour (contract §1.6, A18).
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), False)


@pytest.fixture(scope="module")
def sdk_client(emulator_server: EmulatorServer) -> Iterator[Fastpix]:
    security = models.Security(username=emulator_server.token_id, password=emulator_server.secret)
    with Fastpix(
        security=security, server_url=emulator_server.api_base, retry_config=NO_RETRIES, timeout_ms=5000
    ) as client:
        yield client


@pytest.fixture
def sdk(sdk_client: Fastpix, control: EmulatorControl) -> Fastpix:
    """The vendor SDK on a clean workspace."""
    return sdk_client


def test_sdk_creates_a_stream_and_sees_201(sdk: Fastpix) -> None:
    created = sdk.start_live_stream.create_new_stream(
        playback_settings={"access_policy": "private"},
        input_media_settings={"metadata": {"livestream_name": "Main stage"}, "reconnect_window": 120},
    )
    assert created.success is True
    assert created.data is not None
    assert created.data.status == "idle"
    assert created.data.reconnect_window == 120
    assert created.data.metadata == {"livestream_name": "Main stage"}
    assert created.data.playback_ids is not None
    assert created.data.playback_ids[0].access_policy == "private"


def test_sdk_lists_with_its_default_paging(sdk: Fastpix, control: EmulatorControl) -> None:
    ids = [control.create_stream()["streamId"] for _ in range(12)]
    listed = sdk.manage_live_stream.get_all_streams()  # sends limit=10&offset=1&orderBy=desc
    assert listed.data is not None
    assert [s.stream_id for s in listed.data] == ids[::-1][:10]
    assert listed.pagination is not None
    assert (listed.pagination.total_records, listed.pagination.current_offset) == (12, 1)
    assert listed.pagination.offset_count == 2
    requests = control.requests(path_regex="^/v1/live/streams$")
    assert requests[-1]["query"] == "limit=10&offset=1&orderBy=desc"


def test_sdk_gets_a_stream_with_its_recordings(sdk: Fastpix, control: EmulatorControl) -> None:
    stream = control.create_stream(metadata={"livestream_name": "Main stage"})
    media = control.create_media(stream["streamId"])
    fetched = sdk.manage_live_stream.get_live_stream_by_id(stream_id=stream["streamId"])
    assert fetched.data is not None
    assert fetched.data.stream_id == stream["streamId"]
    assert fetched.data.media_ids == [media["id"]]
    assert fetched.data.srt_playback_response is not None
    assert fetched.data.srt_playback_response.srt_playback_stream_id == "play" + stream["streamId"]


def test_sdk_reads_the_viewer_count(sdk: Fastpix, control: EmulatorControl) -> None:
    stream_id = control.create_stream(status="active", views=214)["streamId"]
    counted = sdk.manage_live_stream.get_live_stream_viewer_count_by_id(stream_id=stream_id)
    assert counted.data is not None
    assert counted.data.views == 214


def test_sdk_updates_a_stream(sdk: Fastpix, control: EmulatorControl) -> None:
    stream_id = control.create_stream(metadata={"old": "x"}, reconnectWindow=600)["streamId"]
    updated = sdk.manage_live_stream.update_live_stream(
        stream_id=stream_id, metadata={"live_streaming": "tech"}
    )
    assert updated.data is not None
    assert updated.data.metadata == {"live_streaming": "tech"}
    # The SDK always serialises its reconnect_window default of 60 (contract §3.5, "SDK pitfall").
    assert updated.data.reconnect_window == 60


def test_sdk_disables_enables_and_finishes(sdk: Fastpix, control: EmulatorControl) -> None:
    stream_id = control.create_stream(status="active")["streamId"]
    assert sdk.manage_live_stream.complete_live_stream(stream_id=stream_id).success is True
    assert sdk.manage_live_stream.disable_live_stream(stream_id=stream_id).success is True
    assert sdk.manage_live_stream.enable_live_stream(stream_id=stream_id).success is True
    assert control.stream_state(stream_id)["stream"]["status"] == "idle"


def test_sdk_deletes_a_stream(sdk: Fastpix, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    assert sdk.manage_live_stream.delete_live_stream(stream_id=stream_id).success is True
    with pytest.raises(errors.NotFoundError):
        sdk.manage_live_stream.get_live_stream_by_id(stream_id=stream_id)


def test_sdk_manages_live_playback_ids(sdk: Fastpix, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    created = sdk.live_playback.create_playback_id_of_stream(stream_id=stream_id, access_policy="private")
    assert created.data is not None
    assert created.data.id is not None
    fetched = sdk.live_playback.get_live_stream_playback_id(stream_id=stream_id, playback_id=created.data.id)
    assert fetched.data is not None
    assert fetched.data.access_policy == "private"
    deleted = sdk.live_playback.delete_playback_id_of_stream(stream_id=stream_id, playback_id=created.data.id)
    assert deleted.success is True


def test_sdk_gets_a_media_by_id_but_cannot_parse_the_spec_shaped_duration(
    sdk: Fastpix, control: EmulatorControl
) -> None:
    """SDK 1.2.0 types `duration` as a float; the spec (final word on shapes) says "HH:MM:SS" (spec:L6602-6605).

    The request and response are right — 200, JSON, every other field parses with the SDK's own model —
    only `duration` fails, so this documents a vendor SDK/spec conflict rather than an emulator bug.
    """
    stream_id = control.create_stream(status="active", liveSeconds=90)["streamId"]
    sdk.manage_live_stream.complete_live_stream(stream_id=stream_id)
    media_id = control.stream_state(stream_id)["stream"]["mediaIds"][0]
    with pytest.raises(errors.ResponseValidationError) as caught:
        sdk.manage_videos.get_media(media_id=media_id)
    body = only_duration_failed(caught.value, ("body", "data", "duration"))
    del body["data"]["duration"]
    parsed = models.GetMediaResponse.model_validate(body)
    assert parsed.data is not None
    assert (parsed.data.id, parsed.data.stream_id, parsed.data.status) == (media_id, stream_id, "Ready")
    assert parsed.data.duration is None


def test_sdk_lists_live_clips_but_cannot_parse_the_spec_shaped_duration(
    sdk: Fastpix, control: EmulatorControl
) -> None:
    """The same SDK/spec conflict as media by id: clips carry the spec's "HH:MM:SS" duration."""
    stream_id = control.create_stream()["streamId"]
    clip = control.create_media(stream_id, kind="clip")
    with pytest.raises(errors.ResponseValidationError) as caught:
        sdk.manage_videos.list_live_clips(livestream_id=stream_id)
    body = only_duration_failed(caught.value, ("body", "data", 0, "duration"))
    del body["data"][0]["duration"]
    parsed = models.ListLiveClipsResponse.model_validate(body)
    assert parsed.data is not None
    assert parsed.data[0].id == clip["id"]
    assert parsed.pagination is not None
    assert parsed.pagination.total_records == 1


def only_duration_failed(error: errors.ResponseValidationError, location: tuple[object, ...]) -> dict:
    """The response was a 200 and nothing but `duration` failed the SDK's model; returns the body."""
    response, cause = error.args[1], error.args[2]
    assert response.status_code == 200
    assert isinstance(cause, pydantic.ValidationError)
    assert [e["loc"] for e in cause.errors()] == [location]
    body: dict = response.json()
    return body


class TestTypedErrors:
    def test_a_second_disable_raises_stream_already_disabled(
        self, sdk: Fastpix, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="disabled")["streamId"]
        with pytest.raises(errors.StreamAlreadyDisabledError) as caught:
            sdk.manage_live_stream.disable_live_stream(stream_id=stream_id)
        assert caught.value.status_code == 400
        assert caught.value.data.error is not None
        assert caught.value.data.error.message == "stream already disabled"

    def test_enabling_an_enabled_stream_raises_bad_request(
        self, sdk: Fastpix, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        with pytest.raises(errors.BadRequest) as caught:
            sdk.manage_live_stream.enable_live_stream(stream_id=stream_id)
        assert caught.value.status_code == 400
        assert "stream is already enabled" in caught.value.body

    def test_finishing_an_idle_stream_raises_the_sdk_400_error(
        self, sdk: Fastpix, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        # SDK 1.2.0 maps 400 and 401 of this operation to UnauthorizedError (a generator artifact, §3.8).
        with pytest.raises(errors.UnauthorizedError) as caught:
            sdk.manage_live_stream.complete_live_stream(stream_id=stream_id)
        assert caught.value.status_code == 400

    @pytest.mark.parametrize(
        ("operation", "error"),
        [
            ("get_live_stream_by_id", errors.NotFoundError),
            ("get_live_stream_viewer_count_by_id", errors.LiveNotFoundError),
            ("delete_live_stream", errors.LiveNotFoundError),
            ("disable_live_stream", errors.LiveNotFoundError),
            ("enable_live_stream", errors.NotFoundError),
            ("complete_live_stream", errors.NotFoundError),
        ],
    )
    def test_unknown_streams_raise_the_sdk_not_found_errors(
        self, sdk: Fastpix, operation: str, error: type[Exception]
    ) -> None:
        with pytest.raises(error) as caught:
            getattr(sdk.manage_live_stream, operation)(stream_id="0123456789abcdef0123456789abcdef")
        assert getattr(caught.value, "status_code", None) == 404

    def test_unknown_media_raises_media_not_found(self, sdk: Fastpix) -> None:
        with pytest.raises(errors.MediaNotFoundError):
            sdk.manage_videos.get_media(media_id="4fa85f64-5717-4562-b3fc-2c963f66afa6")

    def test_bad_credentials_raise_unauthorized(
        self, emulator_server: EmulatorServer, control: EmulatorControl
    ) -> None:
        security = models.Security(username=emulator_server.token_id, password="wrong")
        with (
            Fastpix(
                security=security, server_url=emulator_server.api_base, retry_config=NO_RETRIES
            ) as client,
            pytest.raises(errors.UnauthorizedError) as caught,
        ):
            client.manage_live_stream.get_all_streams()
        assert caught.value.data.error is not None
        assert caught.value.data.error.message == "unauthorized"

    def test_a_read_only_token_raises_invalid_permission_on_create(
        self, emulator_server: EmulatorServer, control: EmulatorControl
    ) -> None:
        control.add_credentials("reader", "reader-secret", ("read",))
        security = models.Security(username="reader", password="reader-secret")
        with (
            Fastpix(
                security=security, server_url=emulator_server.api_base, retry_config=NO_RETRIES
            ) as client,
            pytest.raises(errors.InvalidPermissionError),
        ):
            client.start_live_stream.create_new_stream(playback_settings={}, input_media_settings={})

    def test_an_out_of_range_page_size_raises_a_validation_error_with_fields(self, sdk: Fastpix) -> None:
        with pytest.raises(errors.ValidationErrorResponse) as caught:
            sdk.manage_live_stream.get_all_streams(limit=51)
        assert caught.value.code == 422
        assert caught.value.fields == [{"field": "limit", "message": "must be between 1 and 50"}]

    def test_an_injected_429_reaches_the_sdk_as_a_json_4xx(
        self, sdk: Fastpix, control: EmulatorControl
    ) -> None:
        control.add_fault("^/v1/live/streams$", status=429, retry_after=3)
        with pytest.raises(errors.FastpixDefaultError) as caught:
            sdk.manage_live_stream.get_all_streams()
        assert caught.value.status_code == 429
        assert caught.value.headers["retry-after"] == "3"
