"""Fault injection, latency and the request log (contract §8, §1.7)."""

from __future__ import annotations

import concurrent.futures
import time

import httpx
import pytest

from emulator.testing import EmulatorControl, EmulatorControlError, EmulatorServer
from tests.emulator.support import assert_error, data


def test_a_429_fault_answers_the_exact_body_with_retry_after_then_clears_itself(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.add_fault("^/v1/live/streams$", method="GET", status=429, retry_after=2, times=1)
    response = api.get("/live/streams")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "success": False,
        "error": {
            "code": 429,
            "message": "too many requests",
            "description": "Rate limit exceeded. Retry after the number of seconds in the Retry-After header.",
        },
    }
    assert api.get("/live/streams").status_code == 200


def test_a_429_fault_without_retry_after_still_sends_the_header(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.add_fault("^/v1/live/streams$", status=429)
    assert api.get("/live/streams").headers["retry-after"] == "1"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, "internal server error"),
        (502, "bad gateway"),
        (503, "service unavailable"),
        (504, "gateway timeout"),
        (524, "timeout occurred"),
    ],
)
def test_server_error_faults_answer_the_json_envelope(
    api: httpx.Client, control: EmulatorControl, status: int, message: str
) -> None:
    control.add_fault("^/v1/live/streams/", status=status)
    assert_error(api.get("/live/streams/abc"), status, message)


def test_a_fault_matches_only_its_method_and_path(api: httpx.Client, control: EmulatorControl) -> None:
    stream_id = control.create_stream()["streamId"]
    control.add_fault(f"^/v1/live/streams/{stream_id}$", method="PATCH", status=503, times=None)
    assert api.get(f"/live/streams/{stream_id}").status_code == 200
    assert api.get("/live/streams").status_code == 200
    assert api.patch(f"/live/streams/{stream_id}", json={}).status_code == 503


def test_times_counts_down_and_none_lasts_until_cleared(api: httpx.Client, control: EmulatorControl) -> None:
    control.add_fault("^/v1/live/streams$", status=500, times=2)
    assert [api.get("/live/streams").status_code for _ in range(3)] == [500, 500, 200]
    control.add_fault("^/v1/live/streams$", status=502, times=None)
    assert [api.get("/live/streams").status_code for _ in range(3)] == [502, 502, 502]
    control.clear_faults()
    assert api.get("/live/streams").status_code == 200


def test_a_timeout_fault_hangs_for_hang_seconds_then_answers_504(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.add_fault("^/v1/live/streams$", timeout=True, hang_seconds=0.3)
    started = time.perf_counter()
    response = api.get("/live/streams")
    elapsed = time.perf_counter() - started
    assert_error(response, 504, "gateway timeout")
    assert 0.3 <= elapsed < 2


def test_a_timeout_fault_makes_a_client_with_a_short_timeout_give_up(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    control.add_fault("^/v1/live/streams$", timeout=True, hang_seconds=5)
    auth = (emulator_server.token_id, emulator_server.secret)
    with (
        httpx.Client(base_url=emulator_server.api_base, auth=auth, timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.get("/live/streams")


def test_a_latency_fault_delays_matching_requests_only(api: httpx.Client, control: EmulatorControl) -> None:
    control.add_fault("^/v1/live/streams$", latency_ms=250, times=None)
    started = time.perf_counter()
    assert api.get("/live/streams").status_code == 200
    assert time.perf_counter() - started >= 0.25
    started = time.perf_counter()
    api.get("/live/streams/abc")
    assert time.perf_counter() - started < 0.2


def test_the_fixed_latency_setting_applies_to_v1_but_not_to_the_control_api(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.settings(latency_ms=200)
    stream_id = control.create_stream()["streamId"]
    started = time.perf_counter()
    api.get(f"/live/streams/{stream_id}")
    assert time.perf_counter() - started >= 0.2
    started = time.perf_counter()
    control.stream_state(stream_id)
    assert time.perf_counter() - started < 0.15


def test_concurrent_requests_wait_out_the_latency_together_not_in_turn(
    emulator_server: EmulatorServer, control: EmulatorControl
) -> None:
    """Latency is an asyncio sleep, so it does not block the server."""
    control.settings(latency_ms=300)
    auth = (emulator_server.token_id, emulator_server.secret)
    with httpx.Client(
        base_url=emulator_server.api_base, auth=auth, limits=httpx.Limits(max_connections=8)
    ) as client:

        def call(_: int) -> int:
            return client.get("/live/streams").status_code

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert list(pool.map(call, range(8))) == [200] * 8
        assert time.perf_counter() - started < 1.2  # in turn it would take 2.4 s


class TestApplyFaults:
    """`apply: true`: FastPix acts, then the client gets the fault — after a 5xx or a timeout it may have."""

    @pytest.mark.parametrize(
        ("status", "message"), [(500, "internal server error"), (524, "timeout occurred")]
    )
    def test_a_finish_under_an_applied_error_changes_the_state_but_answers_the_error(
        self, api: httpx.Client, control: EmulatorControl, status: int, message: str
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault(f"^/v1/live/streams/{stream_id}/finish$", method="PUT", status=status, apply=True)
        assert_error(api.put(f"/live/streams/{stream_id}/finish"), status, message)
        assert control.stream_state(stream_id)["stream"]["status"] == "idle"
        # FastPix did finish it: a second finish is refused as the stream is no longer active.
        assert_error(api.put(f"/live/streams/{stream_id}/finish"), 400, "stream is not active")

    def test_without_apply_the_same_error_leaves_the_state_alone(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault(f"^/v1/live/streams/{stream_id}/finish$", method="PUT", status=500)
        assert_error(api.put(f"/live/streams/{stream_id}/finish"), 500, "internal server error")
        assert control.stream_state(stream_id)["stream"]["status"] == "active"

    def test_an_applied_timeout_acts_then_hangs_so_the_client_gives_up(
        self, emulator_server: EmulatorServer, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault(f"^/v1/live/streams/{stream_id}/finish$", timeout=True, hang_seconds=5, apply=True)
        auth = (emulator_server.token_id, emulator_server.secret)
        with (
            httpx.Client(base_url=emulator_server.api_base, auth=auth, timeout=0.3) as client,
            pytest.raises(httpx.ReadTimeout),
        ):
            client.put(f"/live/streams/{stream_id}/finish")
        assert control.stream_state(stream_id)["stream"]["status"] == "idle"

    def test_an_applied_create_makes_the_stream_though_the_client_sees_a_500(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        control.add_fault("^/v1/live/streams$", method="POST", status=500, apply=True)
        response = api.post("/live/streams", json={"playbackSettings": {}, "inputMediaSettings": {}})
        assert_error(response, 500, "internal server error")
        assert len(data(api.get("/live/streams"))) == 1

    def test_the_request_log_records_the_status_the_client_got(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault("/finish$", status=502, apply=True)
        api.put(f"/live/streams/{stream_id}/finish")
        assert [(e["method"], e["status"]) for e in control.requests(path_regex="/finish$")] == [("PUT", 502)]


class TestRawBodyFaults:
    """`raw_body`: a malformed answer, exactly as given, instead of processing the request."""

    def test_a_raw_body_is_answered_verbatim_with_status_200_and_its_content_type(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        control.add_fault("^/v1/live/streams$", method="GET", raw_body="<html>upstream proxy</html>\n")
        response = api.get("/live/streams")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain"
        assert response.content == b"<html>upstream proxy</html>\n"
        assert data(api.get("/live/streams")) == []  # times=1: used up

    def test_a_json_answer_without_data_keeps_its_status_and_content_type(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        control.add_fault(
            f"^/v1/live/streams/{stream_id}$",
            raw_body='{"success": true}',
            status=201,
            content_type="application/json",
            times=2,
        )
        for _ in range(2):
            response = api.get(f"/live/streams/{stream_id}")
            assert (response.status_code, response.headers["content-type"], response.text) == (
                201,
                "application/json",
                '{"success": true}',
            )
        assert data(api.get(f"/live/streams/{stream_id}"))["streamId"] == stream_id

    def test_an_empty_raw_body_is_an_empty_answer(self, api: httpx.Client, control: EmulatorControl) -> None:
        control.add_fault("^/v1/live/streams$", raw_body="")
        response = api.get("/live/streams")
        assert (response.status_code, response.content) == (200, b"")

    def test_a_raw_body_does_not_process_the_request(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault("/finish$", raw_body="ok")
        assert api.put(f"/live/streams/{stream_id}/finish").text == "ok"
        assert control.stream_state(stream_id)["stream"]["status"] == "active"

    def test_with_apply_the_request_is_processed_and_the_raw_body_answered(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream(status="active")["streamId"]
        control.add_fault("/finish$", raw_body="not json", apply=True)
        response = api.put(f"/live/streams/{stream_id}/finish")
        assert (response.status_code, response.text) == (200, "not json")
        assert control.stream_state(stream_id)["stream"]["status"] == "idle"

    def test_the_fault_list_shows_the_new_options(self, control: EmulatorControl) -> None:
        control.add_fault("/finish$", status=500, apply=True)
        control.add_fault("^/v1/live/streams$", raw_body="x", content_type="text/html", times=None)
        faults = httpx.get(f"{control.base_url}/_emulator/faults").json()["faults"]
        assert [(f["status"], f["apply"], f["raw_body"], f["content_type"], f["times"]) for f in faults] == [
            (500, True, None, "text/plain", 1),
            (200, False, "x", "text/html", None),
        ]


@pytest.mark.parametrize(
    ("status", "message"), [(408, "request timeout"), (409, "data conflict"), (413, None)]
)
def test_the_other_error_statuses_answer_the_json_envelope(
    api: httpx.Client, control: EmulatorControl, status: int, message: str | None
) -> None:
    control.add_fault("^/v1/live/streams$", status=status)
    assert_error(api.get("/live/streams"), status, message or "request body too large")


@pytest.mark.parametrize(
    "body",
    [
        # Each would be a valid latency or timeout fault if the new option were ignored.
        {"path_regex": "^/v1", "raw_body": "x", "timeout": True},
        {"path_regex": "^/v1", "raw_body": 5, "latency_ms": 10},
        {"path_regex": "^/v1", "raw_body": "x", "content_type": "", "latency_ms": 10},
        {"path_regex": "^/v1", "raw_body": "x", "content_type": "text/plain\r\nX-Evil: 1", "latency_ms": 10},
        {"path_regex": "^/v1", "apply": True, "latency_ms": 10},
        {"path_regex": "^/v1", "apply": "yes", "status": 500},
    ],
)
def test_invalid_apply_and_raw_body_faults_are_refused(emulator_server: EmulatorServer, body: dict) -> None:
    response = httpx.post(f"{emulator_server.base_url}/_emulator/faults", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"


def test_a_raw_body_takes_any_status_from_200_to_599_and_no_other(
    api: httpx.Client, control: EmulatorControl
) -> None:
    control.add_fault("^/v1/live/streams$", raw_body="teapot", status=418)
    assert (api.get("/live/streams").status_code, api.get("/live/streams").status_code) == (418, 200)
    for status in (100, 199, 600, "200", True):
        response = httpx.post(
            f"{control.base_url}/_emulator/faults",
            json={"path_regex": "^/v1", "raw_body": "x", "status": status},
        )
        assert response.status_code == 400, (status, response.text)


@pytest.mark.parametrize(
    "body",
    [
        {"path_regex": "("},
        {"path_regex": "^/v1", "status": 418},
        {"path_regex": "^/v1"},
        {"path_regex": "^/v1", "status": 500, "times": 0},
        {"status": 500},
    ],
)
def test_invalid_faults_are_refused_by_the_control_api(emulator_server: EmulatorServer, body: dict) -> None:
    response = httpx.post(f"{emulator_server.base_url}/_emulator/faults", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"


class TestRequestLog:
    def test_every_v1_request_is_logged_with_its_outcome(
        self, api: httpx.Client, anonymous: httpx.Client, control: EmulatorControl
    ) -> None:
        control.add_fault("^/v1/live/streams$", method="POST", status=503)
        api.get("/live/streams", params={"limit": 5})
        api.post("/live/streams", json={})
        anonymous.get("/live/streams/abc")
        entries = control.requests()
        assert [(e["method"], e["path"], e["query"], e["status"]) for e in entries] == [
            ("GET", "/v1/live/streams", "limit=5", 200),
            ("POST", "/v1/live/streams", "", 503),
            ("GET", "/v1/live/streams/abc", "", 401),
        ]
        for entry in entries:
            assert entry["time"].endswith("Z")
            assert entry["durationMs"] >= 0

    def test_control_calls_are_not_logged(self, control: EmulatorControl) -> None:
        control.create_stream()
        control.settings()
        assert control.requests() == []

    def test_the_log_filters_by_path_and_method_and_can_be_cleared(
        self, api: httpx.Client, control: EmulatorControl
    ) -> None:
        stream_id = control.create_stream()["streamId"]
        api.get("/live/streams")
        api.get(f"/live/streams/{stream_id}")
        api.patch(f"/live/streams/{stream_id}", json={})
        assert len(control.requests(path_regex=r"^/v1/live/streams/[0-9a-f]{32}$")) == 2
        assert [e["method"] for e in control.requests(method="patch")] == ["PATCH"]
        control.clear_requests()
        assert control.requests() == []

    def test_a_bad_filter_regex_is_a_400_from_the_control_api(self, control: EmulatorControl) -> None:
        with pytest.raises(EmulatorControlError) as caught:
            control.requests(path_regex="(")
        assert caught.value.status == 400

    def test_reset_clears_the_log_and_the_faults(self, api: httpx.Client, control: EmulatorControl) -> None:
        control.add_fault("^/v1/", status=500, times=None)
        api.get("/live/streams")
        control.reset()
        assert control.requests() == []
        assert data(api.get("/live/streams")) == []
