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
