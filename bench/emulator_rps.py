"""Throughput of the FastPix emulator: can it take ≥1,000 simple requests per second on this machine?

Starts `python -m emulator` on 127.0.0.1, loads it with authenticated `GET /v1/live/streams/{id}` and
`GET /v1/live/streams?limit=10` (about 5 s each) using `wrk` when installed (`apt-get install -y wrk`),
otherwise a multi-process Python load generator, prints a table, stops the emulator, and exits 1 if any
endpoint stays below the target or answers anything but 200.

    .venv/bin/python bench/emulator_rps.py [--seconds 5] [--connections 16] [--target 1000]
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN_ID, SECRET = "demo-token-id", "demo-secret-key"
AUTH = "Basic " + base64.b64encode(f"{TOKEN_ID}:{SECRET}".encode()).decode()

WRK_SCRIPT = """
wrk.headers["Authorization"] = "%(auth)s"
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %%d, "seconds": %%f, "p50_us": %%f, "p99_us": %%f, "errors": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), errors))
end
"""


@dataclass(frozen=True)
class Result:
    label: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--seed", "60"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_emulator/health", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit("the emulator exited during start-up") from None
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the emulator did not start within 15 s")


def first_stream_id(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/live/streams?limit=1", headers={"Authorization": AUTH}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.load(response)["data"][0]["streamId"])


def run_wrk(label: str, url: str, seconds: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"auth": AUTH})
    try:
        # One wrk thread: the emulator is a single process and needs the other core.
        command = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "2s",
            "-s",
            script.name,
            url,
        ]
        output = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 30, check=True
        ).stdout
    finally:
        Path(script.name).unlink()
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return Result(
        label, data["requests"], data["seconds"], data["p50_us"] / 1000, data["p99_us"] / 1000, data["errors"]
    )


def _python_worker(port: int, path: str, seconds: float, queue: multiprocessing.Queue) -> None:
    """One keep-alive connection, one request at a time; reports (latencies, errors)."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH}\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        stream = sock.makefile("rb")
        deadline = time.perf_counter() + seconds
        while (started := time.perf_counter()) < deadline:
            sock.sendall(request)
            status_line = stream.readline()
            length = 0
            while (header := stream.readline()) not in (b"\r\n", b""):
                name, _, value = header.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            stream.read(length)
            latencies.append(time.perf_counter() - started)
            errors += not status_line.startswith(b"HTTP/1.1 200")
    queue.put((latencies, errors))


def run_python(label: str, port: int, path: str, seconds: int, connections: int) -> Result:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_python_worker, args=(port, path, seconds, queue))
        for _ in range(connections)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=seconds + 30) for _ in workers]
    for worker in workers:
        worker.join(timeout=5)
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for batch, _ in results for latency in batch)
    errors = sum(count for _, count in results)

    def percentile(share: float) -> float:
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000 if latencies else 0.0

    return Result(label, len(latencies), elapsed, percentile(0.50), percentile(0.99), errors)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5, help="per endpoint (two endpoints)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (Python: 4 processes)")
    parser.add_argument("--target", type=float, default=1000.0, help="minimum requests/s per endpoint")
    parser.add_argument(
        "--python", action="store_true", help="use the Python load generator even if wrk exists"
    )
    args = parser.parse_args()

    use_wrk = shutil.which("wrk") is not None and not args.python
    port = free_port()
    emulator = start_emulator(port)
    try:
        stream_id = first_stream_id(port)
        targets = [
            ("GET /v1/live/streams/{id}", f"/v1/live/streams/{stream_id}"),
            ("GET /v1/live/streams?limit=10", "/v1/live/streams?limit=10"),
        ]
        results = []
        for label, path in targets:
            if use_wrk:
                results.append(
                    run_wrk(label, f"http://127.0.0.1:{port}{path}", args.seconds, args.connections)
                )
            else:
                results.append(run_python(label, port, path, args.seconds, min(args.connections, 4)))
    finally:
        emulator.terminate()
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()

    tool = "wrk" if use_wrk else "python load generator"
    print(f"FastPix emulator throughput ({tool}, {args.seconds}s per endpoint, 127.0.0.1)")
    print(f"{'endpoint':<32} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for result in results:
        print(
            f"{result.label:<32} {result.requests:>9} {result.rps:>9.0f} "
            f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.errors:>7}"
        )
    failed = [r for r in results if r.rps < args.target or r.errors]
    if failed:
        print(f"FAIL: below {args.target:.0f} req/s or errors on: {', '.join(r.label for r in failed)}")
        return 1
    print(f"OK: every endpoint above {args.target:.0f} req/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
