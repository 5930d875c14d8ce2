"""Starting the emulator: `EmulatorServer` in a thread for tests, `python -m emulator` for the demo."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator.testing import EmulatorServer

ROOT = Path(__file__).resolve().parents[2]


def refuses_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_emulator_server_starts_in_under_a_second_and_stops_cleanly() -> None:
    started = time.perf_counter()
    server = EmulatorServer(seed=5, rng_seed=1).start()
    try:
        assert time.perf_counter() - started < 1.0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.api_base == f"{server.base_url}/v1"
        response = httpx.get(f"{server.api_base}/live/streams", auth=(server.token_id, server.secret))
        assert response.json()["pagination"]["totalRecords"] == 5
    finally:
        server.stop()
    assert refuses_connections(server.port)


def test_emulator_server_takes_its_own_credentials() -> None:
    with EmulatorServer(token_id="tok", secret="sec") as server:
        assert httpx.get(f"{server.api_base}/live/streams", auth=("tok", "sec")).status_code == 200
        default = ("demo-token-id", "demo-secret-key")
        assert httpx.get(f"{server.api_base}/live/streams", auth=default).status_code == 401


def test_emulator_server_urls_need_a_started_server() -> None:
    with pytest.raises(RuntimeError):
        _ = EmulatorServer().base_url


def test_the_command_line_says_where_it_listens_and_serves_the_seeded_workspace() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "emulator", "--port", str(port), "--seed", "12", "--latency-ms", "0"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        deadline = time.monotonic() + 10
        while refuses_connections(port):
            assert time.monotonic() < deadline, "the emulator did not open its port"
            time.sleep(0.02)
        auth = ("demo-token-id", "demo-secret-key")
        response = httpx.get(f"http://127.0.0.1:{port}/v1/live/streams", auth=auth)
        assert response.json()["pagination"]["totalRecords"] == 12
        settings = httpx.get(f"http://127.0.0.1:{port}/_emulator/settings").json()
        assert settings == {"latency_ms": 0.0, "simulate": False, "processing_seconds": 8.0}
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in errors
