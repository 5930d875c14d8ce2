"""The emulator sends FastPix webhooks (contract §5): signed, in order, redelivered, and misbehaving on demand.

Real HTTP both ways: the session's emulator posts to a small receiver (`http.server` in a thread) that
records every body and header, and answers 500 (or slowly) when a test asks it to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.testing import EmulatorControl, EmulatorControlError, EmulatorServer
from emulator.webhooks import Target, signature
from tests.emulator.support import TIMESTAMP, UUID4, assert_error, data

ROOT = Path(__file__).resolve().parents[2]
SECRET = "ZmFzdHBpeC1lbXVsYXRvci10ZXN0LXNlY3JldC0zMmJ5dGVzISE="  # the contract's test-vector secret
LIVE = "video.live_stream."


@dataclass(frozen=True)
class Received:
    raw: bytes
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival

    @property
    def body(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.raw)
        return parsed

    @property
    def type(self) -> str:
        return str(self.body["type"])


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records what it is sent and answers as told (200 by default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answers: deque[int] = deque()
        self.delay_seconds = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver._lock:
                    receiver._received.append(Received(raw, headers, time.monotonic()))
                    status = receiver._answers.popleft() if receiver._answers else 200
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = self._server.serve_forever
        self._thread = threading.Thread(target=serve, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/fastpix/"

    def answer(self, *statuses: int) -> None:
        """The next deliveries are answered with these statuses, in order; then 200 again."""
        with self._lock:
            self._answers.extend(statuses)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def types(self) -> list[str]:
        return [item.type for item in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"expected {count} deliveries, got {self.types()}"
            time.sleep(0.01)
        return self.received

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def expected_signature(raw: bytes) -> str:
    """Contract §5.3, written out independently of the emulator's code."""
    key = base64.b64decode(SECRET)
    return base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest()).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def hooks(control: EmulatorControl, receiver: Receiver) -> Iterator[EmulatorControl]:
    """The emulator delivering to `receiver`, with quick retries."""
    control.set_webhooks(receiver.url, SECRET, retry_base_seconds=0.05)
    yield control
    control.clear_webhooks()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# ------------------------------------------------------------------------------------- the envelope


def test_the_signer_reproduces_the_contract_test_vector() -> None:
    body = b'{"type":"video.live_stream.active","id":"evt_1"}'
    assert signature(body, SECRET) == "zPQUa2TnJyDWoAkor8OGDABSU5VZ/NggqmxrpUNSRwE="


def test_a_delivery_is_signed_over_its_exact_bytes_with_the_decoded_secret(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    api.post("/live/streams", json={"playbackSettings": {}, "inputMediaSettings": {}})
    (delivery,) = receiver.wait_for(1)
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["fastpix-signature"] == expected_signature(delivery.raw)
    assert delivery.headers["fastpix-signature"] != expected_signature(delivery.raw + b" ")


def test_a_created_event_carries_the_stream_exactly_as_get_returns_it_secrets_included(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    created = data(
        api.post(
            "/live/streams",
            json={"playbackSettings": {}, "inputMediaSettings": {"metadata": {"livestream_name": "Stage"}}},
        ),
        201,
    )
    (delivery,) = receiver.wait_for(1)
    body = delivery.body
    assert list(body) == ["id", "type", "object", "workspace", "status", "data", "createdAt", "attempts"]
    assert UUID4.fullmatch(body["id"])
    assert body["type"] == "video.live_stream.created"
    assert body["object"] == {"type": "live", "id": created["streamId"]}
    assert body["workspace"]["name"] == "emulator"
    assert UUID4.fullmatch(body["workspace"]["id"])
    assert body["status"] == "idle"
    assert body["data"] == data(api.get(f"/live/streams/{created['streamId']}"))
    assert body["data"]["streamKey"] == created["streamKey"]  # real payloads carry secrets
    assert TIMESTAMP.fullmatch(body["createdAt"])
    assert body["attempts"] == []
    assert delivery.raw == json.dumps(body, separators=(",", ":")).encode()  # compact


def test_a_broadcast_sends_each_transition_in_order_with_the_state_at_that_moment(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    stream_id = hooks.create_stream(reconnectWindow=60)["streamId"]
    hooks.connect(stream_id)
    hooks.go_live(stream_id)
    hooks.disconnect(stream_id)
    hooks.connect(stream_id)  # back within the window: the same session
    assert api.put(f"/live/streams/{stream_id}/finish").status_code == 200
    hooks.wait_for_webhooks()
    deliveries = receiver.wait_for(11)
    assert [item.type for item in deliveries] == [
        f"{LIVE}created",
        f"{LIVE}connected",
        f"{LIVE}preparing",
        f"{LIVE}active",
        f"{LIVE}recording",
        f"{LIVE}disconnected",
        f"{LIVE}connected",
        f"{LIVE}active",
        f"{LIVE}idle",
        "video.media.created",
        "video.media.ready",
    ]
    statuses = [item.body["data"]["status"] for item in deliveries[:9]]
    assert statuses == ["idle", *["preparing"] * 2, *["active"] * 5, "idle"]
    created_at = [item.body["createdAt"] for item in deliveries]
    assert created_at == sorted(created_at)
    assert len(set(created_at)) == len(created_at)  # strictly increasing, so a receiver can order them
    assert len({item.body["id"] for item in deliveries}) == 11
    assert "mediaIds" not in deliveries[7].body["data"]
    (media_id,) = deliveries[8].body["data"]["mediaIds"]
    assert deliveries[8].body["data"] == data(api.get(f"/live/streams/{stream_id}"))
    media_created, media_ready = deliveries[9].body, deliveries[10].body
    assert media_created["object"] == {"type": "media", "id": media_id}
    assert media_created["data"]["streamId"] == stream_id
    assert (media_created["status"], media_created["data"]["status"]) == ("Processing", "Processing")
    assert (media_ready["status"], media_ready["data"]["status"]) == ("Ready", "Ready")
    assert media_ready["data"] == data(api.get(f"/on-demand/{media_id}"))


def test_going_live_from_idle_passes_through_preparing(hooks: EmulatorControl, receiver: Receiver) -> None:
    stream_id = hooks.create_stream(enableRecording=False)["streamId"]
    hooks.go_live(stream_id)
    hooks.wait_for_webhooks()
    # No `recording` event: this stream does not record.
    assert receiver.types() == [f"{LIVE}{name}" for name in ("created", "connected", "preparing", "active")]


def test_edits_playback_ids_disable_enable_and_delete_send_their_events(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    stream_id = hooks.create_stream()["streamId"]
    assert api.patch(f"/live/streams/{stream_id}", json={"metadata": {"a": "b"}}).status_code == 200
    playback_id = data(api.post(f"/live/streams/{stream_id}/playback-ids", json={}), 201)["id"]
    api.delete(f"/live/streams/{stream_id}/playback-ids", params={"playbackId": playback_id})
    api.put(f"/live/streams/{stream_id}/live-disable")
    api.put(f"/live/streams/{stream_id}/live-enable")
    before_delete = data(api.get(f"/live/streams/{stream_id}"))
    api.delete(f"/live/streams/{stream_id}")
    hooks.wait_for_webhooks()
    deliveries = receiver.received
    assert [item.type for item in deliveries] == [
        f"{LIVE}{name}"
        for name in ("created", "updated", "updated", "updated", "disabled", "updated", "idle", "deleted")
    ]
    assert deliveries[1].body["data"]["metadata"] == {"a": "b"}
    assert [p["id"] for p in deliveries[2].body["data"]["playbackIds"]][-1] == playback_id
    assert playback_id not in [p["id"] for p in deliveries[3].body["data"]["playbackIds"]]
    assert deliveries[4].body["status"] == "disabled"
    assert deliveries[7].body["data"] == before_delete  # the stream as it was when deleted


def test_refused_calls_send_nothing(api: httpx.Client, hooks: EmulatorControl, receiver: Receiver) -> None:
    stream_id = hooks.create_stream()["streamId"]
    assert api.put(f"/live/streams/{stream_id}/finish").status_code == 400
    assert api.put(f"/live/streams/{stream_id}/live-enable").status_code == 400
    hooks.wait_for_webhooks()
    assert receiver.types() == [f"{LIVE}created"]


def test_simulcast_target_events_carry_the_target_and_its_stream(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    stream_id = hooks.create_stream()["streamId"]
    target = {"url": "rtmp://live.twitch.tv/app/", "streamKey": "live_abc"}
    simulcast = data(api.post(f"/live/streams/{stream_id}/simulcast", json=target), 201)
    path = f"/live/streams/{stream_id}/simulcast/{simulcast['simulcastId']}"
    api.put(path, json={"isEnabled": False})
    api.delete(path)
    hooks.wait_for_webhooks()
    deliveries = receiver.received[1:]
    assert [item.type for item in deliveries] == [
        f"{LIVE}simulcast_target.{name}" for name in ("created", "updated", "deleted")
    ]
    assert deliveries[0].body["data"] == {**simulcast, "streamId": stream_id}
    assert deliveries[1].body["data"]["isEnabled"] is False
    assert {item.body["object"]["id"] for item in deliveries} == {stream_id}


# ------------------------------------------------------------------------------------- time-driven


def test_a_reconnect_window_running_out_sends_idle_and_the_recording_without_any_api_call(
    hooks: EmulatorControl, receiver: Receiver
) -> None:
    stream_id = hooks.create_stream(status="active", liveSeconds=90, reconnectWindow=60)["streamId"]
    hooks.disconnect(stream_id, ago=59.5)  # the window runs out half a second from now
    hooks.clear_requests()
    deliveries = receiver.wait_for(5)
    assert [item.type for item in deliveries] == [
        f"{LIVE}created",
        f"{LIVE}disconnected",
        f"{LIVE}idle",
        "video.media.created",
        "video.media.ready",
    ]
    assert deliveries[2].at - deliveries[1].at >= 0.4
    assert hooks.requests() == []  # nobody asked FastPix anything meanwhile
    idle = deliveries[2].body["data"]
    assert idle["status"] == "idle"
    assert deliveries[3].body["object"]["id"] == idle["mediaIds"][0]
    # Live 90 s, of which the last 59.5 without an encoder: the session ended when the encoder left.
    assert deliveries[3].body["data"]["duration"] == "00:00:30"


def test_max_duration_and_processing_time_fire_their_events_on_their_own(
    hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.settings(processing_seconds=0.5)
    stream_id = hooks.create_stream(status="active", maxDuration=1)["streamId"]
    deliveries = receiver.wait_for(4)
    assert [item.type for item in deliveries] == [
        f"{LIVE}created",
        f"{LIVE}idle",
        "video.media.created",
        "video.media.ready",
    ]
    assert deliveries[1].at - deliveries[0].at >= 0.9
    assert deliveries[3].at - deliveries[2].at >= 0.4
    media = deliveries[3].body["data"]
    assert (media["streamId"], media["status"]) == (stream_id, "Ready")
    assert deliveries[2].body["data"]["status"] == "Processing"


def test_media_status_changes_made_through_the_control_api_send_ready_failed_or_updated(
    hooks: EmulatorControl, receiver: Receiver
) -> None:
    stream_id = hooks.create_stream()["streamId"]
    media_id = hooks.create_media(stream_id, status="Processing")["id"]
    hooks.set_media_status(media_id, "In Queue")
    hooks.set_media_status(media_id, "Failed")
    hooks.wait_for_webhooks()
    assert receiver.types()[1:] == ["video.media.created", "video.media.updated", "video.media.failed"]


# ------------------------------------------------------------------------------------- redelivery


def test_a_delivery_answered_500_is_redelivered_with_its_attempts_and_signed_again(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    receiver.answer(500, 503)
    hooks.create_stream()
    deliveries = receiver.wait_for(3)
    hooks.wait_for_webhooks()
    assert len({item.body["id"] for item in deliveries}) == 1
    attempts = [item.body["attempts"] for item in deliveries]
    assert [len(a) for a in attempts] == [0, 1, 2]
    assert [(a["attempt"], a["status"]) for a in attempts[2]] == [(1, 500), (2, 503)]
    assert attempts[2][0] == attempts[1][0]
    assert all(TIMESTAMP.fullmatch(a["at"]) for a in attempts[2])
    for item in deliveries:
        assert item.headers["fastpix-signature"] == expected_signature(item.raw)
    assert len({item.headers["fastpix-signature"] for item in deliveries}) == 3
    # Back-off: base × 2^n with base 0.05 s.
    assert deliveries[1].at - deliveries[0].at >= 0.05
    assert deliveries[2].at - deliveries[1].at >= 0.1
    log = hooks.webhook_deliveries()
    assert [(entry["attempt"], entry["status"]) for entry in log] == [(1, 500), (2, 503), (3, 200)]
    assert {entry["eventId"] for entry in log} == {deliveries[0].body["id"]}
    assert set(log[0]) == {"eventId", "type", "streamId", "attempt", "status", "error", "sentAt", "createdAt"}
    assert hooks.webhooks()["delivered"] == 1


def test_a_failing_event_does_not_hold_back_the_ones_after_it(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.set_webhooks(receiver.url, SECRET, retry_base_seconds=0.5)
    receiver.answer(500)
    stream_id = hooks.create_stream()["streamId"]
    api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": 120})
    deliveries = receiver.wait_for(3)
    assert [item.type for item in deliveries] == [f"{LIVE}created", f"{LIVE}updated", f"{LIVE}created"]


def test_an_event_is_given_up_after_max_attempts(hooks: EmulatorControl, receiver: Receiver) -> None:
    hooks.set_webhooks(receiver.url, SECRET, max_attempts=3, retry_base_seconds=0.01)
    receiver.answer(500, 500, 500, 500)
    hooks.create_stream()
    hooks.wait_for_webhooks()
    time.sleep(0.1)
    assert len(receiver.received) == 3
    status = hooks.webhooks()
    assert (status["pending"], status["failed"], status["delivered"]) == (0, 1, 0)


def test_a_refused_connection_is_logged_and_retried(control: EmulatorControl) -> None:
    closed = Receiver()
    url = closed.url
    closed.close()
    control.set_webhooks(url, SECRET, max_attempts=2, retry_base_seconds=0.01)
    control.create_stream()
    control.wait_for_webhooks()
    log = control.webhook_deliveries()
    assert [(entry["attempt"], entry["status"]) for entry in log] == [(1, None), (2, None)]
    assert all("Connect" in entry["error"] for entry in log)
    control.clear_webhooks()


def test_an_api_call_never_waits_for_a_delivery(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    receiver.delay_seconds = 2.0
    stream_id = hooks.create_stream()["streamId"]
    receiver.wait_for(1)  # the receiver is now busy answering for 2 s
    started = time.monotonic()
    for _ in range(3):
        assert api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": 90}).status_code == 200
    assert time.monotonic() - started < 1.0
    assert hooks.webhooks()["pending"] >= 3


# ------------------------------------------------------------------------------------- chaos


def test_drop_loses_the_next_matching_events(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.webhook_chaos("drop", times=1, type_regex=r"\.updated$")
    stream_id = hooks.create_stream()["streamId"]
    for window in (90, 120):
        api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": window})
    hooks.wait_for_webhooks()
    deliveries = receiver.received
    assert [item.type for item in deliveries] == [f"{LIVE}created", f"{LIVE}updated"]
    assert deliveries[1].body["data"]["reconnectWindow"] == 120
    assert hooks.webhooks()["dropped"] == 1


def test_duplicate_delivers_the_same_event_twice(hooks: EmulatorControl, receiver: Receiver) -> None:
    hooks.webhook_chaos("duplicate")
    hooks.create_stream()
    first, second = receiver.wait_for(2)
    assert first.raw == second.raw
    assert first.body["id"] == second.body["id"]


def test_delay_lets_later_events_overtake(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.webhook_chaos("delay", delay_ms=400, type_regex=r"\.created$")
    stream_id = hooks.create_stream()["streamId"]
    emitted = time.monotonic()
    api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": 90})
    deliveries = receiver.wait_for(2)
    assert [item.type for item in deliveries] == [f"{LIVE}updated", f"{LIVE}created"]
    assert deliveries[1].at - emitted >= 0.35


def test_hold_keeps_events_until_release_which_sends_them_newest_first(
    api: httpx.Client, hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.webhook_chaos("hold", times=3)
    stream_id = hooks.create_stream()["streamId"]
    for window in (90, 120):
        api.patch(f"/live/streams/{stream_id}", json={"reconnectWindow": window})
    hooks.wait_for_webhooks()  # held events are not pending
    time.sleep(0.1)
    assert receiver.received == []
    assert hooks.webhooks()["held"] == 3
    assert hooks.release_held() == 3
    deliveries = receiver.wait_for(3)
    assert [item.type for item in deliveries] == [f"{LIVE}updated", f"{LIVE}updated", f"{LIVE}created"]
    assert [item.body["data"]["reconnectWindow"] for item in deliveries] == [120, 90, 60]
    assert hooks.webhooks()["held"] == 0


def test_chaos_and_target_are_validated(control: EmulatorControl, receiver: Receiver) -> None:
    with pytest.raises(EmulatorControlError) as error:
        control.webhook_chaos("shuffle")
    assert error.value.status == 400
    with pytest.raises(EmulatorControlError):
        control.webhook_chaos("drop", type_regex="(")
    with pytest.raises(EmulatorControlError):
        control.set_webhooks(receiver.url, "not base64!")
    with pytest.raises(EmulatorControlError):
        control.set_webhooks("ftp://example.com/", SECRET)


def test_clearing_webhooks_stops_deliveries_and_reset_forgets_them(
    hooks: EmulatorControl, receiver: Receiver
) -> None:
    hooks.webhook_chaos("hold")
    hooks.create_stream()
    hooks.clear_webhooks()
    assert hooks.webhooks()["url"] is None
    hooks.create_stream()
    assert hooks.release_held() == 0
    hooks.set_webhooks(receiver.url, SECRET)
    hooks.reset()
    assert hooks.webhooks() == {
        "url": None,
        "maxAttempts": None,
        "retryBaseSeconds": None,
        "pending": 0,
        "held": 0,
        "delivered": 0,
        "failed": 0,
        "dropped": 0,
        "chaos": [],
    }
    time.sleep(0.1)
    assert receiver.received == []


# ------------------------------------------------------------------------------------- start-up


def test_a_server_started_with_a_target_seeds_silently_and_reset_keeps_its_target(
    receiver: Receiver,
) -> None:
    with EmulatorServer(seed=30, webhook=Target(receiver.url, SECRET)) as server:
        control = server.control
        time.sleep(0.3)
        assert receiver.received == []  # seeding emits nothing
        control.reset(seed=5)
        assert control.webhooks()["url"] == receiver.url
        control.create_stream()
        (delivery,) = receiver.wait_for(1)
        assert delivery.type == f"{LIVE}created"


def test_the_command_line_documents_and_checks_the_new_flags() -> None:
    command = [sys.executable, "-m", "emulator", "--help"]
    usage = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for flag in ("--webhook-url", "--webhook-secret", "--webhook-max-attempts", "--rate-limit", "--live"):
        assert flag in usage
    lonely = [sys.executable, "-m", "emulator", "--webhook-url", "http://127.0.0.1:9/"]
    refused = subprocess.run(lonely, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "--webhook-url and --webhook-secret go together" in refused.stderr


# ------------------------------------------------------------------------------------- rate limit


def test_over_the_rate_limit_the_api_answers_429_with_retry_after(
    emulator_server: EmulatorServer, api: httpx.Client, control: EmulatorControl
) -> None:
    assert control.settings(rate_limit=2)["rate_limit"] == 2.0
    answers = [api.get("/live/streams") for _ in range(4)]
    assert [answer.status_code for answer in answers[:2]] == [200, 200]
    limited = answers[-1]
    assert_error(
        limited,
        429,
        "too many requests",
        "Rate limit exceeded. Retry after the number of seconds in the Retry-After header.",
    )
    assert int(limited.headers["retry-after"]) >= 1
    # Per token: another token still has its own budget.
    control.add_credentials("other", "other-secret", ("read",))
    other = httpx.get(f"{emulator_server.api_base}/live/streams", auth=("other", "other-secret"))
    assert other.status_code == 200
    time.sleep(0.6)  # half a second refills one request at 2/s
    assert api.get("/live/streams").status_code == 200
    control.settings(rate_limit=0)
    assert all(api.get("/live/streams").status_code == 200 for _ in range(5))
    assert "rate_limit" not in control.settings()


def test_the_events_a_call_causes_go_out_only_after_its_answer_has_been_sent(receiver: Receiver) -> None:
    """FastPix delivers webhooks after the call. The app is driven over ASGI with an answer that takes
    0.3 s to send: nothing is delivered meanwhile (the events are counted as pending), then it is."""
    import asyncio

    from emulator.app import create_app
    from emulator.runtime import DEFAULT_SECRET, DEFAULT_TOKEN_ID

    app = create_app(webhook=Target(url=receiver.url, signing_secret_b64=SECRET, retry_base_seconds=0.05))
    webhooks = app.state.emulator.webhooks
    credentials = base64.b64encode(f"{DEFAULT_TOKEN_ID}:{DEFAULT_SECRET}".encode())
    body = json.dumps({"playbackSettings": {}, "inputMediaSettings": {}}).encode()
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/live/streams", "raw_path": b"/v1/live/streams", "root_path": "", "query_string": b"",
        "headers": [(b"authorization", b"Basic " + credentials), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    while_answering: list[tuple[int, int]] = []
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            await asyncio.sleep(0.3)  # a slow link: the answer is still on its way
            while_answering.append((len(receiver.received), webhooks.status()["pending"]))
        answer.append(message)

    try:
        # In a thread of its own: a browser test earlier in this process may have left a loop running here.
        driver = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))  # type: ignore[arg-type]
        driver.start()
        driver.join(timeout=10)
        assert answer[0]["status"] == 201
        assert while_answering == [(0, 1)]  # the created event: kept, not sent, not forgotten
        assert [r.type for r in receiver.wait_for(1)] == [f"{LIVE}created"]
    finally:
        webhooks.close()
