"""What every benchmark shares: free ports, the emulator, gunicorn and Redis as subprocesses on 127.0.0.1,
signing in, Server-Timing, percentiles, and the table of figures with their targets.

Every process a benchmark starts is registered with its `Bench` and stopped when the benchmark ends, also
on Ctrl-C, SIGTERM or an exception. Logs and the throwaway SQLite database and STATIC_ROOT live in a
temporary folder that is removed at the end (kept with BENCH_KEEP=1).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from emulator.testing import EmulatorControl

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # git-ignored; run_all reads the figures back from here
TOKEN_ID = "bench-token-id"
SECRET = "bench-secret-key"  # the local emulator's credential, not a secret
USERNAME = "bench"
PASSWORD = secrets.token_urlsafe(18)
START_SECONDS = 40.0

LIST_URL = "/streams/?page=1&size=50&order=newest"
POLL_URL = "/streams/live/?page=1&size=50&order=newest"


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bench:
    """One benchmark run: a temporary folder and the processes it started, all stopped at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, label: str, argv: Sequence[str], *, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start `argv` in its own session (so the terminal's Ctrl-C reaches only us) with its output in a log."""
        log = (self.workdir / f"{label}.log").open("ab")
        process = subprocess.Popen(
            list(argv),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append((label, process))
        return process

    def log_tail(self, label: str, lines: int = 30) -> str:
        path = self.workdir / f"{label}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def check_alive(self) -> None:
        for label, process in self.processes:
            if process.poll() is not None:
                raise BenchError(f"{label} exited early (code {process.returncode}):\n{self.log_tail(label)}")

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM (gunicorn stops its workers gracefully), then SIGKILL to the whole process group."""
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        # Anything the process left behind in its own session (it was started with start_new_session).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        self.processes = [(label, p) for label, p in self.processes if p is not process]

    def close(self) -> None:
        for _, process in reversed(list(self.processes)):
            self.stop(process)
        if os.environ.get("BENCH_KEEP") == "1":
            print(f"(kept {self.workdir})", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


class BenchError(RuntimeError):
    """The benchmark could not run (a process did not start, a page answered an error)."""


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def bench_session(name: str) -> Iterator[Bench]:
    """A `Bench` whose processes are stopped however the block ends."""
    # Ctrl-C and SIGTERM both end up in `finally`, even when started from a shell that ignores SIGINT.
    previous = (
        signal.signal(signal.SIGTERM, _sigterm),
        signal.signal(signal.SIGINT, signal.default_int_handler),
    )
    bench = Bench(name)
    try:
        yield bench
    finally:
        bench.close()
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def wait_until(check: Any, *, bench: Bench, what: str, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        bench.check_alive()
        with contextlib.suppress(OSError, httpx.HTTPError):
            if check():
                return
        time.sleep(0.1)
    raise BenchError(f"{what} did not answer within {seconds:.0f} s")


# ---------------------------------------------------------------- emulator


@dataclass
class Emulator:
    base_url: str
    process: subprocess.Popen[bytes]
    control: EmulatorControl

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v1"


def start_emulator(
    bench: Bench,
    *,
    seed: int = 0,
    live: int | None = None,
    latency_ms: float = 0.0,
    rng_seed: int | None = None,
) -> Emulator:
    """The emulator on a free port; `seed` streams (`live` of them active), every /v1 call taking
    `latency_ms`. Seeding 10,000 streams takes a while: the start-up wait and the control timeout allow it."""
    port = free_port()
    argv = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port), "--seed", str(seed),
            "--latency-ms", str(latency_ms), "--token-id", TOKEN_ID, "--secret", SECRET]  # fmt: skip
    if live is not None:
        argv += ["--live", str(live)]
    if rng_seed is not None:
        argv += ["--rng-seed", str(rng_seed)]
    process = bench.start("emulator", argv)
    base = f"http://127.0.0.1:{port}"
    wait_until(
        lambda: httpx.get(f"{base}/_emulator/health", timeout=1).status_code == 200,
        bench=bench,
        what="emulator",
        seconds=120,
    )
    return Emulator(base_url=base, process=process, control=EmulatorControl(base, timeout=60))


def build_workspace(
    control: EmulatorControl, *, total: int = 200, newest: int = 50, active: int = 20
) -> list[str]:
    """`total` streams whose newest `newest` include `active` active ones; returns the active ids.

    Creation times are explicit (one minute apart), so "newest first" is exactly the creation order here.
    """
    control.reset()
    now = datetime.now(UTC)
    # Active rows spread evenly over the first page.
    active_slots = {round(i * newest / active) for i in range(active)} if active else set()
    active_ids: list[str] = []
    for index in range(total):
        age = total - index  # minutes; the last created is the newest
        slot = total - 1 - index  # position on the "newest" list, 0 = top
        is_active = slot < newest and slot in active_slots
        stream = control.create_stream(
            status="active" if is_active else "idle",
            views=100 + index if is_active else 0,
            createdAt=(now - timedelta(minutes=age)).isoformat().replace("+00:00", "Z"),
            metadata={"livestream_name": f"Bench stream {index:03d}"},
        )
        if is_active:
            active_ids.append(stream["streamId"])
    return active_ids


# ---------------------------------------------------------------- console (gunicorn)


@dataclass
class Console:
    base_url: str
    process: subprocess.Popen[bytes]
    label: str


def console_env(bench: Bench, emulator: Emulator | None, **overrides: str) -> dict[str, str]:
    """Production settings (DEBUG off, manifest static files) on a throwaway SQLite DB and STATIC_ROOT."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_STATIC_ROOT": str(bench.workdir / "static"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{bench.workdir / 'console.sqlite3'}",
    }
    for name in (
        "CACHE_URL",
        "GUNICORN_WORKERS",
        "GUNICORN_THREADS",
        "VIEWER_COUNT_TTL",
        "LIVE_POLL_SECONDS",
    ):
        env.pop(name, None)  # only what the benchmark says, never the caller's shell
    if emulator is not None:
        env.update(FASTPIX_API_BASE=emulator.api_base, FASTPIX_TOKEN_ID=TOKEN_ID, FASTPIX_SECRET_KEY=SECRET)
    env.update(overrides)
    return env


def prepare_console(env: dict[str, str]) -> None:
    """migrate, collectstatic (into the temporary STATIC_ROOT) and one admin user, as scripts/demo.py does."""

    def manage(*args: str, extra: dict[str, str] | None = None) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0:
            raise BenchError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")

    manage("migrate", "--noinput", "-v0")
    manage("collectstatic", "--noinput", "-v0")
    manage("create_console_user", USERNAME, "--role", "admin", "--password-env", "BENCH_PASSWORD",
           "--skip-validation", extra={"BENCH_PASSWORD": PASSWORD})  # fmt: skip


def start_console(bench: Bench, env: dict[str, str], *, label: str = "gunicorn", **overrides: str) -> Console:
    """gunicorn with gunicorn.conf.py (read from the project root), as `make run` starts it."""
    port = free_port()
    process = bench.start(
        label,
        [sys.executable, "-m", "gunicorn", "dashboard.wsgi"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", **overrides},
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200, bench=bench, what=label)
    return Console(base_url=base, process=process, label=label)


def sign_in(base_url: str, *, timeout: float = 30.0) -> httpx.Client:
    """A client with a session: GET /login/ for the CSRF cookie, then POST the form with its Referer."""
    client = httpx.Client(base_url=base_url, timeout=timeout)
    client.get("/login/")
    response = client.post(
        "/login/",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{base_url}/login/"},
    )
    if response.status_code != 302 or "sessionid" not in client.cookies:
        raise BenchError(f"signing in failed: {response.status_code} {response.text[:300]}")
    return client


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def get_ok(client: httpx.Client, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return response


# ---------------------------------------------------------------- Redis


def start_redis(bench: Bench) -> str:
    """A throwaway redis-server on 127.0.0.1 (no persistence); returns its CACHE_URL."""
    if shutil.which("redis-server") is None:
        raise BenchError("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    bench.start(
        "redis",
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--dir", str(bench.workdir)],
    )  # fmt: skip

    def ping() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    wait_until(ping, bench=bench, what="redis-server")
    return f"redis://127.0.0.1:{port}/0"


# ---------------------------------------------------------------- measuring

_TIMING = re.compile(r"app;dur=([0-9.]+)")
_CALLS = re.compile(r'fastpix;desc="(\d+) calls"')


@dataclass(frozen=True)
class ServerTiming:
    app_ms: float
    calls: int


def server_timing(headers: httpx.Headers | dict[str, str]) -> ServerTiming:
    value = headers.get("server-timing", "")
    duration, calls = _TIMING.search(value), _CALLS.search(value)
    if duration is None or calls is None:
        raise BenchError(f"no Server-Timing app/fastpix in {value!r}")
    return ServerTiming(float(duration.group(1)), int(calls.group(1)))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def worker_pids(master_pid: int) -> list[int]:
    """The children of a gunicorn master (its workers), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy(seconds: float = 1.0) -> float:
    """How busy all CPUs were over `seconds` (0..1), from /proc/stat: other people's work skews timings."""
    total0, idle0 = _machine_ticks()
    time.sleep(seconds)
    total1, idle1 = _machine_ticks()
    return 1 - (idle1 - idle0) / max(1, total1 - total0)


def _descendants(root: int) -> set[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _own_cpu() -> float:
    """CPU seconds used by this process, its reaped children and all its live descendants."""
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    for pid in _descendants(os.getpid()):
        with contextlib.suppress(OSError, BenchError):
            total += cpu_seconds(pid)
    return total


def _machine_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:8]), values[3] + values[4]


class CpuWatch:
    """How much of the machine other people's work used while we measured (0..1). On a shared 2-core
    machine this is what makes a latency figure trustworthy or not; the reports print it."""

    def __enter__(self) -> CpuWatch:
        self._ticks = _machine_ticks()
        self._own = _own_cpu()
        self.others = math.nan
        return self

    def __exit__(self, *exc_info: object) -> None:
        total1, idle1 = _machine_ticks()
        total0, idle0 = self._ticks
        hz = os.sysconf("SC_CLK_TCK")
        busy = ((total1 - total0) - (idle1 - idle0)) / hz
        capacity = (total1 - total0) / hz
        self.others = round(max(0.0, busy - (_own_cpu() - self._own)) / max(capacity, 1e-9), 4)


def wait_for_quiet(*, threshold: float = 0.25, max_wait: float = 60.0) -> float:
    """Wait (at most `max_wait` s) until the machine is mostly idle before measuring; returns the last
    busy fraction seen, which the report prints so a noisy run can be recognised."""
    deadline = time.monotonic() + max_wait
    busy = machine_busy()
    while busy > threshold and time.monotonic() < deadline:
        print(f"machine {busy:.0%} busy with other work; waiting for it to calm down…", file=sys.stderr)
        busy = machine_busy(2.0)
    return busy


def proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise BenchError(f"no {key} for pid {pid}")


# ---------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str = ""
    target: str = ""  # e.g. "≤ 1.3"; empty: informative only
    ok: bool | None = None
    note: str = ""

    def shown(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        if abs(self.value) < 0.0005:
            return "0"
        if self.value == int(self.value) and abs(self.value) >= 100:
            return f"{int(self.value)}"
        return f"{self.value:.3g}" if abs(self.value) < 10 else f"{self.value:.1f}"


def at_most(name: str, value: float, limit: float, unit: str = "", note: str = "") -> Figure:
    return Figure(name, value, unit, f"≤ {limit:g}", (not math.isnan(value)) and value <= limit, note)


def at_least(name: str, value: float, limit: float, unit: str = "", note: str = "") -> Figure:
    return Figure(name, value, unit, f"≥ {limit:g}", (not math.isnan(value)) and value >= limit, note)


def info(name: str, value: float, unit: str = "", note: str = "") -> Figure:
    return Figure(name, value, unit, "", None, note)


@dataclass
class Report:
    bench: str
    command: str
    figures: list[Figure] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)

    def add(self, *figures: Figure) -> None:
        self.figures.extend(figures)

    @property
    def passed(self) -> bool:
        return all(f.ok is not False for f in self.figures)

    def table(self) -> str:
        rows = [("figure", "value", "unit", "target", "")]
        for f in self.figures:
            verdict = "" if f.ok is None else ("met" if f.ok else "MISSED")
            rows.append((f.name, f.shown(), f.unit, f.target, verdict + (f"  {f.note}" if f.note else "")))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"== {self.bench}: {self.command}"]
        for i, row in enumerate(rows):
            lines.append(
                "  ".join(cell.ljust(widths[c]) if c < 4 else cell for c, cell in enumerate(row)).rstrip()
            )
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def finish(self) -> int:
        """Print the table, keep the figures in bench/results/<bench>.json, and return the exit code."""
        print(self.table(), flush=True)
        RESULTS.mkdir(exist_ok=True)
        data = {
            "bench": self.bench,
            "command": self.command,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "passed": self.passed,
            "context": self.context,
            "figures": [asdict(f) for f in self.figures],
        }
        (RESULTS / f"{self.bench}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
        return 0 if self.passed else 1


def command_line() -> str:
    module = Path(sys.argv[0]).stem
    return " ".join([".venv/bin/python -m bench." + module, *sys.argv[1:]])


def run(main: Any) -> None:
    """Run a benchmark's main(), mapping Ctrl-C to 130 and a setup failure to 2 (a missed target is 1)."""
    try:
        code = main()
    except KeyboardInterrupt:
        print("\ninterrupted; everything this benchmark started has been stopped", file=sys.stderr)
        code = 130
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
