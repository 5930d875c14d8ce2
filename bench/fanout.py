"""Polling fan-out: many open tabs of the same list page cost FastPix one viewer-count call per active
stream per cache period, and each poll stays cheap.

100 simulated browser tabs (asyncio + httpx, one connection each, one shared signed-in session) poll the
list page's poll URL (/streams/live/?page=1&size=50&order=newest) for 60 s, each waiting the delay the
response asks for (hx-trigger="load delay:Ns", LIVE_POLL_SECONDS) like htmx does, starting at random
moments. The emulator answers every call after L = 50 ms; the workspace is 200 streams, 20 of them active
on that page. Two set-ups:

  local  one gunicorn process (1 worker, 8 threads), local-memory cache
  redis  two gunicorn processes (1 worker each) sharing a throwaway Redis, the tabs split across them

Targets: viewer-count calls per active stream per cache period ≤ 1.1 (counted in the emulator's request
log), poll server time (Server-Timing app) p95 ≤ 25 ms, no failed poll.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from bench.common import (
    LIST_URL,
    POLL_URL,
    Bench,
    Console,
    CpuWatch,
    Emulator,
    Report,
    at_most,
    bench_session,
    build_workspace,
    command_line,
    console_env,
    cpu_seconds,
    get_ok,
    info,
    percentile,
    prepare_console,
    run,
    server_timing,
    sign_in,
    start_console,
    start_emulator,
    start_redis,
    wait_for_quiet,
    worker_pids,
)

_DELAY = re.compile(r'hx-trigger="load delay:(\d+)s')
VIEWER_COUNT = re.compile(r"^/v1/live/streams/([^/]+)/viewer-count$")
MAX_POLLS_PER_TAB = 10_000  # a bound on each tab's loop besides its deadline


@dataclass
class Polls:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    retried: int = 0


async def tab(client: httpx.AsyncClient, stop_at: float, first_delay: float, polls: Polls) -> None:
    """One open list page: poll, wait what the fragment says, poll again; a browser retries a request
    once when a kept-alive connection turns out to be closed, and so do we."""
    await asyncio.sleep(first_delay)
    for _ in range(MAX_POLLS_PER_TAB):
        if time.monotonic() >= stop_at:
            return
        started = time.perf_counter()
        try:
            try:
                response = await client.get(POLL_URL)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                polls.retried += 1
                response = await client.get(POLL_URL)
        except httpx.HTTPError as exc:
            polls.failures[type(exc).__name__] += 1
            await asyncio.sleep(1)
            continue
        polls.client_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            polls.failures[f"HTTP {response.status_code}"] += 1
        else:
            timing = server_timing(response.headers)
            polls.server_ms.append(timing.app_ms)
            polls.calls.append(timing.calls)
        match = _DELAY.search(response.text)
        delay = int(match.group(1)) if match else 5
        await asyncio.sleep(min(delay, max(0.0, stop_at - time.monotonic())))


async def run_tabs(consoles: list[tuple[str, str]], tabs: int, seconds: float, poll_seconds: float) -> Polls:
    """`tabs` tabs spread over the consoles (base URL, Cookie header), polling for `seconds`."""
    polls = Polls()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(
            base_url=consoles[i % len(consoles)][0],
            headers={"Cookie": consoles[i % len(consoles)][1], "HX-Request": "true"},
            limits=limits,
            timeout=30,
        )
        for i in range(tabs)
    ]
    rng = random.Random(8)
    try:
        await asyncio.gather(
            *(tab(client, stop_at, rng.uniform(0, poll_seconds), polls) for client in clients)
        )
    finally:
        for client in clients:
            await client.aclose()
    return polls


def measure(
    report: Report,
    label: str,
    emulator: Emulator,
    consoles: list[Console],
    active: list[str],
    options: argparse.Namespace,
) -> None:
    cookies = []
    for console in consoles:
        with contextlib.closing(sign_in(console.base_url)) as client:
            # The page the tabs were opened from: it fills the cache with the page's ids and counts.
            get_ok(client, LIST_URL)
            get_ok(client, POLL_URL)
            cookies.append((console.base_url, "; ".join(f"{k}={v}" for k, v in client.cookies.items())))
    emulator.control.clear_requests()
    workers = [pid for console in consoles for pid in worker_pids(console.process.pid)]
    cpu_before = sum(cpu_seconds(pid) for pid in workers)
    started = time.monotonic()
    with CpuWatch() as watch:
        polls = asyncio.run(run_tabs(cookies, options.tabs, options.seconds, options.poll_seconds))
    elapsed = time.monotonic() - started
    worker_cpu_ms = (
        (sum(cpu_seconds(pid) for pid in workers) - cpu_before) * 1000 / max(len(polls.client_ms), 1)
    )
    log = emulator.control.requests(method="GET")

    warm = [ms for ms, calls in zip(polls.server_ms, polls.calls, strict=True) if calls == 0]
    per_stream = Counter(m.group(1) for e in log if (m := VIEWER_COUNT.match(e["path"])))
    unexpected = set(per_stream) - set(active)
    periods = elapsed / options.ttl
    ratio = sum(per_stream[s] for s in active) / (len(active) * periods)
    list_calls = sum(1 for e in log if e["path"] == "/v1/live/streams")
    report.add(
        at_most(f"{label}: viewer-count calls per active stream per period", ratio, 1.1,
                note=f"{sum(per_stream.values())} calls, {len(active)} streams, {periods:.1f} periods of {options.ttl:g} s"),
        info(f"{label}: busiest stream's calls per period", max(per_stream.values(), default=0) / periods),
        info(f"{label}: list calls per period", list_calls / periods),
        at_most(f"{label}: poll server time p95", percentile(polls.server_ms, 95), 25, "ms"),
        info(f"{label}: poll server time p50", percentile(polls.server_ms, 50), "ms"),
        info(f"{label}: p95 of the polls that called no FastPix", percentile(warm, 95), "ms",
             note=f"{len(warm)} of {len(polls.server_ms)} polls"),
        info(f"{label}: poll server time max", max(polls.server_ms, default=float("nan")), "ms"),
        info(f"{label}: poll round trip p95 (client)", percentile(polls.client_ms, 95), "ms"),
        info(f"{label}: worker CPU per poll", worker_cpu_ms, "ms"),
        info(f"{label}: polls answered", len(polls.server_ms), note=f"{len(polls.server_ms) / elapsed:.1f}/s"),
        info(f"{label}: median FastPix calls per poll", statistics.median(polls.calls) if polls.calls else float("nan")),
        at_most(f"{label}: failed polls", sum(polls.failures.values()), 0,
                note=", ".join(f"{k}: {v}" for k, v in polls.failures.items())),
        info(f"{label}: polls retried on a closed keep-alive connection", polls.retried),
        info(f"{label}: other work on the machine", watch.others * 100, "%"),
    )  # fmt: skip
    if unexpected:
        report.add(info(f"{label}: viewer counts of streams not on the page", len(unexpected)))


def setup(bench: Bench, latency: float) -> tuple[Emulator, list[str], dict[str, str]]:
    emulator = start_emulator(bench, latency_ms=latency)
    active = build_workspace(emulator.control, total=200, newest=50, active=20)
    env = console_env(bench, emulator)
    prepare_console(env)
    return emulator, active, env


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the tabs poll (default 60)")
    parser.add_argument("--tabs", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--poll-seconds", type=int, default=5, help="LIVE_POLL_SECONDS for the console")
    parser.add_argument("--ttl", type=float, default=5.0, help="VIEWER_COUNT_TTL for the console")
    parser.add_argument("--only", choices=("local", "redis"), help="run one set-up only")
    options = parser.parse_args()
    report = Report("fanout", command_line(), context=vars(options).copy())
    report.context["machine_busy_before"] = wait_for_quiet()
    overrides = {"VIEWER_COUNT_TTL": str(options.ttl), "LIVE_POLL_SECONDS": str(options.poll_seconds)}

    if options.only in (None, "local"):
        with bench_session("fanout-local") as bench:
            emulator, active, env = setup(bench, options.latency_ms)
            console = start_console(bench, env, GUNICORN_WORKERS="1", **overrides)
            measure(report, "local", emulator, [console], active, options)
    if options.only in (None, "redis"):
        with bench_session("fanout-redis") as bench:
            emulator, active, env = setup(bench, options.latency_ms)
            env["CACHE_URL"] = start_redis(bench)
            consoles = [
                start_console(bench, env, label=f"gunicorn-{n}", GUNICORN_WORKERS="1", **overrides)
                for n in (1, 2)
            ]
            measure(report, "redis", emulator, consoles, active, options)
    return report.finish()


if __name__ == "__main__":
    run(main)
