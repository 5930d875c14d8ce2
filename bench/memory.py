"""The console's memory: pages from the mirror, search at scale, one viewer-count call per live stream per
period for the whole deployment, and how soon a FastPix change reaches an open page.

Every FastPix call takes L = 50 ms (the emulator's --latency-ms) unless said otherwise. The emulator sends
signed webhooks to the console; `manage.py console_worker` runs beside gunicorn. Phases:

  cold     200 streams, 20 live; one gunicorn worker. The cold path: every measured request is a new
           session's first visit, made after a webhook changed the mirror (so nothing a previous request
           rendered can be reused). List page (size 50) from the mirror, an active stream's detail page,
           and Finish (the confirmed POST, as the dialog sends it with htmx and as the page without
           JavaScript does) on streams of their own. Each round ends with the floor: a bare client's one GET
           and two sequential GETs, so each sample can be set against the machine's state in its round.
  search   10,000 streams, 500 live (emulator at L = 0); the worker reconciles them all; then searches by
           name part, id prefix and metadata value, with status filters and sorts.
  fanout   2 gunicorn processes, 2 workers (one works, one stands by), 300 tabs polling the list and
           detail pages for 60 s. Viewer-count calls per live stream per period, from the emulator's log;
           and, meanwhile, a live stream changes state every few seconds in the emulator while a tab
           watches its page: the time from the change to the first poll showing it.

Targets (issue "The console's own memory"): list ≤ 0.25 × L with 0 FastPix calls; detail ≤ 1.2 × L (one
call); Finish ≤ 2.2 × L; search p95 ≤ 50 ms; viewer-count calls per live stream per period 1.0 ± 0.1;
a state change visible on an open page ≤ 2 s after the event (p95).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import html
import itertools
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from bench.common import (
    SECRET,
    TOKEN_ID,
    Bench,
    BenchError,
    Console,
    CpuWatch,
    Emulator,
    Figure,
    Report,
    at_most,
    bench_session,
    build_workspace,
    command_line,
    console_env,
    cookie_header,
    get_ok,
    info,
    percentile,
    prepare_console,
    run,
    server_timing,
    sign_in,
    start_console,
    start_emulator,
    wait_for_quiet,
    wait_until,
)
from emulator.testing import EmulatorControl


def within(name: str, value: float, target: float, tolerance: float, note: str = "") -> Figure:
    return Figure(name, value, "", f"{target:g} ± {tolerance:g}", abs(value - target) <= tolerance, note)


VIEWER_COUNT = re.compile(r"^/v1/live/streams/([^/]+)/viewer-count$")
BADGE = re.compile(r'class="badge badge-(\w+)"')
POLLER = re.compile(r'data-poll hx-get="([^"]+)"')
DELAY = re.compile(r'hx-trigger="load delay:(\d+(?:\.\d+)?)s')
LIST_URL = "/streams/?page=1&size=50"
LIST_POLL = "/streams/live/?page=1&size=50"
TTL = 5.0  # VIEWER_COUNT_TTL: the sampling period
RATE_LIMIT = 150  # FASTPIX_RATE_LIMIT's default: the worker's calls per second
UNCHANGED_BYTES = 1000  # a poll answered with its poller alone (and the list's freshness notice)


@dataclass
class Deployment:
    emulator: Emulator
    consoles: list[Console]
    workers: list[subprocess.Popen[bytes]]
    env: dict[str, str]


def deploy(
    bench: Bench, emulator: Emulator, *, web: int, workers: int, sync_seconds: float = 120
) -> Deployment:
    """Console processes wired to the emulator's webhooks, the workers beside them, and the mirror synced."""
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    # The manifests the readiness job probes come from the emulator too (as in the demo), not the internet.
    env = console_env(
        bench,
        emulator,
        FASTPIX_WEBHOOK_SECRET=secret,
        VIEWER_COUNT_TTL=str(TTL),
        FASTPIX_STREAM_URL=f"{emulator.base_url}/stream",
    )
    prepare_console(env)
    consoles = [
        start_console(bench, env, label=f"gunicorn-{n}", GUNICORN_WORKERS="1") for n in range(1, web + 1)
    ]
    emulator.control.set_webhooks(f"{consoles[0].base_url}/webhooks/fastpix/", secret)
    started = [
        bench.start(
            f"worker-{n}", [sys.executable, "manage.py", "console_worker", "--holder", f"bench-{n}"], env=env
        )
        for n in range(1, workers + 1)
    ]

    def synced() -> bool:
        bench.check_alive()
        ages = httpx.get(f"{consoles[0].base_url}/healthz", timeout=5).json()["ages"]
        reconciled, sampled = ages.get("last_reconcile"), ages.get("last_sample")
        # A sampling round after the first reconcile: the sampler has seen the live streams.
        return reconciled is not None and sampled is not None and sampled < reconciled

    wait_until(synced, bench=bench, what="the mirror's first reconcile and sample", seconds=sync_seconds)
    return Deployment(emulator, consoles, started, env)


def change_mirror(control: EmulatorControl, stream_id: str, n: int) -> None:
    """A viewer change FastPix would report: the sampler writes it within a period (bumping the mirror)."""
    control.set_viewers(stream_id, 1000 + n)


# ---------------------------------------------------------------- cold path


def first_visit(console: Console, url: str) -> tuple[float, int, httpx.Client]:
    client = sign_in(console.base_url)
    timing = server_timing(get_ok(client, url).headers)
    return timing.app_ms, timing.calls, client


def finish(client: httpx.Client, stream_id: str, *, dialog: bool) -> tuple[float, int]:
    """The confirmed Finish: as the dialog posts it (htmx, answered with the result rendered from the re-read)
    or as the page without JavaScript does (answered with a redirect). The confirmation gives the CSRF token."""
    page = get_ok(client, f"/streams/{stream_id}/finish/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise BenchError("no CSRF token on the Finish confirmation")
    headers = {"Referer": f"{client.base_url}/streams/{stream_id}/"}
    if dialog:
        headers.update({"HX-Request": "true", "HX-Current-URL": headers["Referer"]})
    response = client.post(
        f"/streams/{stream_id}/finish/", data={"csrfmiddlewaretoken": token.group(1)}, headers=headers
    )
    if response.status_code not in (200, 302, 303) or (
        dialog and "Finished the broadcast" not in response.text
    ):
        raise BenchError(f"Finish answered {response.status_code}: {response.text[:300]}")
    timing = server_timing(response.headers)
    return timing.app_ms, timing.calls


def bare_calls(client: httpx.Client, stream_id: str) -> tuple[float, float]:
    """The floor under the cold figures: a bare httpx client, after a pause as on the cold path, timing one
    GET and then two sequential GETs (what Finish's PUT and re-read cost before the console does anything).
    In ms."""
    timings: list[float] = []
    for calls in (1, 2):
        time.sleep(1.0)
        started = time.perf_counter()
        for _ in range(calls):
            client.get(f"/live/streams/{stream_id}").raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings[0], timings[1]


def cold(report: Report, latency: float, samples: int) -> None:
    with bench_session("memory-cold") as bench:
        emulator = start_emulator(bench, latency_ms=latency)
        active = build_workspace(emulator.control, total=200, newest=50, active=20 + 2 * samples)
        deployment = deploy(bench, emulator, web=1, workers=1)
        console = deployment.consoles[0]
        control = emulator.control
        rows: dict[str, list[tuple[float, int]]] = {
            "list": [],
            "detail": [],
            "finish": [],
            "finish without JS": [],
        }
        floors: list[tuple[float, float]] = []
        watched, to_finish = active[:20], active[20:]
        bare = httpx.Client(base_url=emulator.api_base, auth=(TOKEN_ID, SECRET), timeout=10)
        for n in range(samples):
            change_mirror(control, watched[n % len(watched)], n)
            time.sleep(TTL + 0.5)  # the sampler has written it: the mirror changed since the last request
            ms, calls, client = first_visit(console, LIST_URL)
            rows["list"].append((ms, calls))
            client.close()
            ms, calls, client = first_visit(console, f"/streams/{watched[n % len(watched)]}/")
            rows["detail"].append((ms, calls))
            rows["finish"].append(finish(client, to_finish[2 * n], dialog=True))
            rows["finish without JS"].append(finish(client, to_finish[2 * n + 1], dialog=False))
            client.close()
            # In the same round, so that the machine's state then is in both.
            floors.append(bare_calls(bare, watched[n % len(watched)]))
        bare.close()
    targets = {"list": 0.25, "detail": 1.2, "finish": 2.2, "finish without JS": 2.2}
    for name, values in rows.items():
        times = [ms for ms, _ in values]
        counts = [c for _, c in values]
        report.add(
            at_most(f"cold {name}: median server time / L", statistics.median(times) / latency, targets[name],
                    "× L", note=f"{statistics.median(times):.1f} ms, slowest {max(times):.1f} ms"),
            info(f"cold {name}: FastPix calls per request (median / max)", statistics.median(counts),
                 note=f"max {max(counts)}"),
        )  # fmt: skip
    report.add(at_most("cold list: FastPix calls (max over samples)", max(c for _, c in rows["list"]), 0))
    one = statistics.median(floor for floor, _ in floors)
    two = statistics.median(floor for _, floor in floors)
    report.add(
        info("the floor: one GET from a bare client after a pause / L", one / latency, "× L", note=f"{one:.1f} ms"),
        info("the floor: two sequential GETs from a bare client / L", two / latency, "× L", note=f"{two:.1f} ms"),
    )  # fmt: skip
    for name in ("detail", "finish", "finish without JS"):
        calls = 1 if name == "detail" else 2
        # What the console adds to its FastPix calls: each sample less its round's floor, so that how busy
        # the machine was in that round (it moves the floor by a millisecond or more) is in neither.
        added = statistics.median(
            ms - floor[calls - 1] for (ms, _), floor in zip(rows[name], floors, strict=True)
        )
        report.add(
            info(f"cold {name}: less the floor of its {calls} call{'s' * (calls > 1)} in the same round / L",
                 added / latency, "× L", note=f"{added:.1f} ms"),
        )  # fmt: skip


# ---------------------------------------------------------------- search at scale


QUERIES = ("stream 12", "seed", "b", "0a", "keynote", "3", "event", "zz-no-match", "stream 9999", "ab")


def search(report: Report, count: int, live: int) -> None:
    with bench_session("memory-search") as bench:
        emulator = start_emulator(bench, latency_ms=0, seed=count, live=live)
        started = time.monotonic()
        deployment = deploy(bench, emulator, web=1, workers=1, sync_seconds=600)
        synced_after = time.monotonic() - started
        console = deployment.consoles[0]
        rng = random.Random(4)
        with contextlib.closing(sign_in(console.base_url)) as client:
            ids = re.findall(r'href="/streams/([0-9a-f]{32})/"', get_ok(client, "/streams/?size=50").text)
            urls = []
            for n in range(200):
                q = rng.choice((*QUERIES, *(i[:3] for i in ids[:10])))
                status = rng.choice(("", "live", "idle", "preparing", "disabled"))
                sort = rng.choice(("-created", "created", "name", "-name", "viewers"))
                urls.append(f"/streams/?q={q}&status={status}&sort={sort}&page={1 + n % 3}&size=50")
            times, calls = [], []
            for url in urls:
                timing = server_timing(get_ok(client, url).headers)
                times.append(timing.app_ms)
                calls.append(timing.calls)
        # The sampler at this size: three whole periods of its calls, per live stream and per second.
        emulator.control.clear_requests()
        time.sleep(3 * TTL)
        log = emulator.control.requests(method="GET")
    sampled = [e for e in log if VIEWER_COUNT.match(e["path"])]
    per_second = Counter(e["time"][:19] for e in sampled)  # calls started in each whole second
    report.add(
        at_most(f"search over {count:,} streams: p95 server time", percentile(times, 95), 50, "ms",
                note=f"p50 {percentile(times, 50):.1f} ms, max {max(times):.1f} ms, {len(times)} searches"),
        at_most("search: FastPix calls (max)", max(calls), 0),
        info(f"{count:,} streams ({live} live): first complete reconcile and sample after", synced_after, "s"),
        within(f"sampler with {live} live streams: calls per live stream per period", len(sampled) / (live * 3),
               1.0, 0.1, note=f"{len(sampled)} calls in 3 periods of {TTL:g} s"),
        at_most("sampler: most viewer-count calls started in one second", max(per_second.values(), default=0),
                RATE_LIMIT, "calls", note=f"FASTPIX_RATE_LIMIT {RATE_LIMIT}/s; {live / TTL:.0f}/s needed"),
    )  # fmt: skip


# ---------------------------------------------------------------- fan-out and event-to-page time


@dataclass
class Watch:
    seen: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, status shown)


@dataclass
class Polls:
    server_ms: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


async def tab(client: httpx.AsyncClient, url: str, stop_at: float, first: float, polls: Polls,
              watch: Watch | None = None) -> None:  # fmt: skip
    await asyncio.sleep(first)
    while time.monotonic() < stop_at:
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            polls.failures[type(exc).__name__] += 1
            await asyncio.sleep(1)
            continue
        if response.status_code not in (200, 286):
            polls.failures[f"HTTP {response.status_code}"] += 1
        else:
            timing = server_timing(response.headers)
            polls.server_ms.append(timing.app_ms)
            polls.calls.append(timing.calls)
            polls.sizes.append(len(response.content))
            if watch is not None and (badge := BADGE.search(response.text)):
                watch.seen.append((time.monotonic(), badge.group(1)))
        # As htmx does: the answer's poller replaces the old one, and the next poll is its hx-get (which
        # carries the token of what the page now shows).
        if poller := POLLER.search(response.text):
            url = html.unescape(poller.group(1))
        delay = DELAY.search(response.text)
        await asyncio.sleep(float(delay.group(1)) if delay else 1.0)


async def change_states(control: EmulatorControl, stream_id: str, stop_at: float,
                        changes: list[tuple[float, str]]) -> None:  # fmt: skip
    """Disconnect-expire (→ idle) and go live again (→ active), every 3 s, noting when each was made."""
    loop = asyncio.get_running_loop()
    live = True
    while time.monotonic() < stop_at - 4:
        await asyncio.sleep(3)
        if live:
            await loop.run_in_executor(None, lambda: control.disconnect(stream_id, expire=True))
            changes.append((time.monotonic(), "idle"))
        else:
            await loop.run_in_executor(None, lambda: control.go_live(stream_id))
            changes.append((time.monotonic(), "active"))
        live = not live


def visible_after(changes: list[tuple[float, str]], seen: list[tuple[float, str]]) -> list[float]:
    delays = []
    for at, status in changes:
        shown = [t for t, s in seen if t >= at and s == status]
        if shown:
            delays.append(shown[0] - at)
        else:
            delays.append(float("inf"))
    return delays


async def fan_out(deployment: Deployment, cookies: list[str], urls: list[str], watched: str, tabs: int,
                  seconds: float) -> tuple[Polls, list[float]]:  # fmt: skip
    polls, watch = Polls(), Watch()
    changes: list[tuple[float, str]] = []
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=deployment.consoles[i % len(deployment.consoles)].base_url, limits=limits,
                          headers={"Cookie": cookies[i % len(cookies)], "HX-Request": "true"}, timeout=30)
        for i in range(tabs + 1)
    ]  # fmt: skip
    rng = random.Random(8)
    try:
        await asyncio.gather(
            *(
                tab(c, urls[i % len(urls)], stop_at, rng.uniform(0, 1), polls)
                for i, c in enumerate(clients[:-1])
            ),
            tab(clients[-1], f"/streams/{watched}/live/", stop_at, 0, Polls(), watch),
            change_states(deployment.emulator.control, watched, stop_at, changes),
        )
    finally:
        for client in clients:
            await client.aclose()
    return polls, visible_after(changes, watch.seen)


def fanout(report: Report, latency: float, tabs: int, seconds: float) -> None:
    with bench_session("memory-fanout") as bench:
        emulator = start_emulator(bench, latency_ms=latency)
        active = build_workspace(emulator.control, total=200, newest=50, active=21)
        deployment = deploy(bench, emulator, web=2, workers=2)
        watched, live = active[0], active[1:]
        cookies = []
        for console in deployment.consoles:
            with contextlib.closing(sign_in(console.base_url)) as client:
                cookies.append(cookie_header(client))
        urls = [LIST_POLL, *(f"/streams/{stream_id}/live/" for stream_id in live)]
        emulator.control.clear_requests()
        started = time.monotonic()
        with CpuWatch() as watch:
            polls, delays = asyncio.run(fan_out(deployment, cookies, urls, watched, tabs, seconds))
        elapsed = time.monotonic() - started
        log = emulator.control.requests(method="GET")
    calls = [(m.group(1), e["time"]) for e in log if (m := VIEWER_COUNT.match(e["path"]))]
    per_stream = Counter(stream_id for stream_id, _ in calls)
    periods = elapsed / TTL
    ratio = sum(per_stream[s] for s in live) / (len(live) * periods)
    # The same seen per stream: one call per period is a gap of one period (two samplers: half of one).
    gaps = []
    for stream_id in live:
        moments = sorted(datetime.fromisoformat(t.replace("Z", "+00:00")) for s, t in calls if s == stream_id)
        gaps += [(b - a).total_seconds() for a, b in itertools.pairwise(moments)]
    per_period = TTL / statistics.median(gaps) if gaps else 0.0
    report.add(
        within("fan-out: viewer-count calls per live stream per period", ratio, 1.0, 0.1,
               note=f"{sum(per_stream[s] for s in live)} calls, {len(live)} streams, {periods:.1f} periods; "
                    f"2 web processes, 2 workers, {tabs} tabs"),
        info("fan-out: periods per gap between one stream's successive calls (median)", per_period,
             note="2 would mean two samplers at work"),
        at_most("fan-out: FastPix calls made by polls", sum(polls.calls), 0, note=f"{len(polls.calls)} polls"),
        info("fan-out: poll server time p50 / p95", percentile(polls.server_ms, 50), "ms",
             note=f"p95 {percentile(polls.server_ms, 95):.1f} ms"),
        info("fan-out: polls answered with the poller alone (nothing changed)",
             100 * sum(1 for size in polls.sizes if size < UNCHANGED_BYTES) / max(len(polls.sizes), 1), "%"),
        at_most("fan-out: failed polls", sum(polls.failures.values()), 0,
                note=", ".join(f"{k}: {v}" for k, v in polls.failures.items())),
        at_most("a FastPix state change visible on an open page: p95", percentile(delays, 95), 2.0, "s",
                note=f"p50 {percentile(delays, 50):.2f} s, {len(delays)} changes"),
        info("fan-out: other work on the machine", watch.others * 100, "%"),
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--samples", type=int, default=10, help="cold-path requests of each kind (1-15)")
    parser.add_argument("--streams", type=int, default=10_000, help="streams for the search phase")
    parser.add_argument("--live", type=int, default=500, help="live streams for the search phase")
    parser.add_argument("--tabs", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the tabs poll")
    parser.add_argument("--only", choices=("cold", "search", "fanout"))
    options = parser.parse_args()
    if not 1 <= options.samples <= 15:
        parser.error("--samples: 1 to 15 (each Finish needs a live stream of its own among the newest 50)")
    report = Report("memory", command_line(), context=vars(options).copy())
    report.context["machine_busy_before"] = wait_for_quiet()
    if options.only in (None, "cold"):
        cold(report, options.latency_ms, options.samples)
    if options.only in (None, "search"):
        search(report, options.streams, options.live)
    if options.only in (None, "fanout"):
        fanout(report, options.latency_ms, options.tabs, options.seconds)
    return report.finish()


if __name__ == "__main__":
    run(main)
