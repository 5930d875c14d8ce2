"""Run the emulator inside a test process, and drive it through its control API.

Importing this module starts nothing. Typical pytest wiring (one server per session / xdist worker):

    @pytest.fixture(scope="session")
    def emulator_server():
        with EmulatorServer() as server:
            yield server

    @pytest.fixture
    def emulator(emulator_server):
        emulator_server.control.reset()
        return emulator_server.control
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from emulator.app import create_app
from emulator.runtime import DEFAULT_SECRET, DEFAULT_TOKEN_ID
from emulator.webhooks import Target

START_TIMEOUT_SECONDS = 5.0


class EmulatorControl:
    """A small typed client for `/_emulator` (contract §8)."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=f"{self.base_url}/_emulator", timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise EmulatorControlError(response.status_code, response.text)
        return response.json()

    def reset(self, seed: int | None = None, live: int | None = None) -> None:
        """Empty workspace (or `seed` streams, `live` of them active), no faults, empty request log, initial
        settings, and the start-up webhook target (none unless the server was started with one)."""
        body = {key: value for key, value in (("seed", seed), ("live", live)) if value is not None}
        self._call("POST", "/reset", json=body)

    def create_stream(self, **fields: Any) -> dict[str, Any]:
        """Create a stream in any state; fields are camelCase, e.g. `status="active", liveSeconds=4320`.

        Returns the vendor stream object, exactly as `GET /v1/live/streams/{id}` returns it in `data`.
        """
        result: dict[str, Any] = self._call("POST", "/streams", json=fields)
        return result

    def stream_state(self, stream_id: str) -> dict[str, Any]:
        """`{"stream": <vendor object>, "views", "activeSince", "encoderConnected", "disconnectedAt"}`."""
        result: dict[str, Any] = self._call("GET", f"/streams/{stream_id}")
        return result

    def connect(self, stream_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/streams/{stream_id}/connect")
        return result

    def go_live(self, stream_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/streams/{stream_id}/go-live")
        return result

    def disconnect(self, stream_id: str, expire: bool = False, ago: float = 0.0) -> dict[str, Any]:
        """The encoder drops (`ago` seconds ago: a reconnect window can then run out within seconds)."""
        params = {"expire": "true" if expire else "false", "ago": str(ago)}
        result: dict[str, Any] = self._call("POST", f"/streams/{stream_id}/disconnect", params=params)
        return result

    def set_viewers(self, stream_id: str, n: int) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/streams/{stream_id}/viewers", json={"views": n})
        return result

    def create_media(
        self,
        stream_id: str,
        *,
        kind: str = "recording",
        status: str = "Ready",
        duration_seconds: float = 60.0,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        """Add a recording (`kind="recording"`) or live clip (`kind="clip"`); returns the vendor media object."""
        body: dict[str, Any] = {"streamId": stream_id, "kind": kind, "status": status}
        body["durationSeconds"] = duration_seconds
        if created_at is not None:
            body["createdAt"] = created_at
        media: dict[str, Any] = self._call("POST", "/media", json=body)["media"]
        return media

    def media(self, media_id: str) -> dict[str, Any]:
        """`{"media": <vendor object>, "kind", "readyAt"}`."""
        result: dict[str, Any] = self._call("GET", f"/media/{media_id}")
        return result

    def set_media_status(self, media_id: str, status: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/media/{media_id}/status", json={"status": status})
        return result

    def add_fault(
        self,
        path_regex: str,
        *,
        method: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        times: int | None = 1,
        latency_ms: float | None = None,
        timeout: bool = False,
        hang_seconds: float | None = None,
        apply: bool = False,
        raw_body: str | None = None,
        content_type: str = "text/plain",
    ) -> dict[str, Any]:
        """Matching `/v1` requests fail with `status`, get `latency_ms` more, or hang then 504 (`timeout`).

        `apply=True`: the request is processed first (FastPix acts, the state changes), then the client gets
        the fault instead of the real answer — "after a 5xx or a timeout FastPix may already have acted".
        `raw_body`: answer exactly that body with `content_type` and `status` (200 when None), a malformed
        answer; without `apply` the request is not processed. `times=None` keeps the fault until
        `clear_faults()`.
        """
        body: dict[str, Any] = {"path_regex": path_regex, "method": method, "status": status, "times": times}
        if retry_after is not None:
            body["retry_after"] = retry_after
        if latency_ms is not None:
            body["latency_ms"] = latency_ms
        if timeout:
            body["timeout"] = True
        if hang_seconds is not None:
            body["hang_seconds"] = hang_seconds
        if apply:
            body["apply"] = True
        if raw_body is not None:
            body["raw_body"] = raw_body
            body["content_type"] = content_type
        result: dict[str, Any] = self._call("POST", "/faults", json=body)
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, path_regex: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Every `/v1` request so far: `{"method","path","query","status","time","durationMs"}`."""
        params = {key: value for key, value in (("path_regex", path_regex), ("method", method)) if value}
        entries: list[dict[str, Any]] = self._call("GET", "/requests", params=params)["requests"]
        return entries

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def settings(self, **kw: Any) -> dict[str, Any]:
        """Change and return `latency_ms`, `simulate`, `processing_seconds`, and `rate_limit` (requests per
        second per token id over /v1; 0 turns it off, and it is shown only while on). No arguments: read."""
        result: dict[str, Any] = (
            self._call("POST", "/settings", json=kw) if kw else self._call("GET", "/settings")
        )
        return result

    def add_credentials(self, token_id: str, secret: str, permissions: tuple[str, ...] = ("read",)) -> None:
        body = {"tokenId": token_id, "secret": secret, "permissions": list(permissions)}
        self._call("POST", "/credentials", json=body)

    # ------------------------------------------------------------------------------------ webhooks

    def set_webhooks(self, url: str, secret: str, **options: Any) -> dict[str, Any]:
        """Deliver signed events to `url`; options: `max_attempts` (5), `retry_base_seconds` (0.2),
        `timeout_seconds` (5). Returns the status, as `webhooks()`."""
        body = {"url": url, "signing_secret_b64": secret, **options}
        result: dict[str, Any] = self._call("POST", "/webhooks", json=body)
        return result

    def clear_webhooks(self) -> None:
        """Stop delivering; whatever was queued or held is dropped."""
        self._call("DELETE", "/webhooks")

    def webhooks(self) -> dict[str, Any]:
        """`{"url", "pending", "held", "delivered", "failed", "dropped", "maxAttempts", "retryBaseSeconds",
        "chaos"}`; `pending` counts events queued, in flight or waiting for a retry (not held ones)."""
        result: dict[str, Any] = self._call("GET", "/webhooks")
        return result

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every delivery attempt, oldest first: `{"eventId", "type", "streamId", "attempt", "status",
        "error", "sentAt", "createdAt"}` (`status` None when the connection failed)."""
        entries: list[dict[str, Any]] = self._call("GET", "/webhooks/deliveries")["data"]
        return entries

    def clear_webhook_deliveries(self) -> None:
        self._call("DELETE", "/webhooks/deliveries")

    def webhook_chaos(
        self, action: str, times: int = 1, type_regex: str | None = None, delay_ms: float = 0
    ) -> dict[str, Any]:
        """The next `times` events (whose type matches `type_regex`, if given) are dropped, delivered twice
        (`duplicate`), delayed by `delay_ms` (`delay`; later events overtake them) or held until
        `release_held()` (`hold`)."""
        body = {"action": action, "times": times, "type_regex": type_regex, "delay_ms": delay_ms}
        result: dict[str, Any] = self._call("POST", "/webhooks/chaos", json=body)
        return result

    def clear_webhook_chaos(self) -> None:
        self._call("DELETE", "/webhooks/chaos")

    def release_held(self) -> int:
        """Deliver every held event now, newest first (a reordering); returns how many."""
        released: int = self._call("POST", "/webhooks/release")["released"]
        return released

    def wait_for_webhooks(self, timeout: float = 5.0) -> None:
        """Until nothing is pending (queued, in flight or due for a retry); TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.webhooks()
            if status["pending"] == 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhooks still pending after {timeout} s: {status}")
            time.sleep(0.01)


class EmulatorControlError(RuntimeError):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class EmulatorServer:
    """The emulator on 127.0.0.1 in a background thread (its own event loop), on a free port."""

    def __init__(
        self,
        *,
        port: int = 0,
        token_id: str = DEFAULT_TOKEN_ID,
        secret: str = DEFAULT_SECRET,
        seed: int = 0,
        latency_ms: float = 0,
        simulate: bool = False,
        processing_seconds: float = 0.0,
        rng_seed: int | None = None,
        live: int | None = None,
        rate_limit: float = 0.0,
        webhook: Target | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.token_id = token_id
        self.secret = secret
        self.app = create_app(
            token_id=token_id,
            secret=secret,
            seed=seed,
            latency_ms=latency_ms,
            simulate=simulate,
            processing_seconds=processing_seconds,
            rng_seed=rng_seed,
            live=live,
            rate_limit=rate_limit,
            webhook=webhook,
        )
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._control: EmulatorControl | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmulatorServer is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v1"

    @property
    def control(self) -> EmulatorControl:
        if self._control is None:
            self._control = EmulatorControl(self.base_url)
        return self._control

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            return self
        # Bind here, so the port is known (and reserved) before the thread starts.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="emulator", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
