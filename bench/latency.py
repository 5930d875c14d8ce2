"""Page latency against upstream latency.

Every FastPix call takes L = 50 ms (the emulator's --latency-ms). The workspace holds 200 streams, 20 of
them active among the newest 50. We read the console's own time (Server-Timing `app;dur`) for the list
page (size=50) and for an active stream's detail page: median of 30 after a warm-up, as a ratio to L.

Targets: list ≤ 1.3 × L, detail ≤ 1.5 × L. Also shown: the median number of FastPix calls per page, the
gunicorn worker's CPU time per page (what the page costs beyond waiting for FastPix, independent of other
load on the machine), and the figures for requests that find the viewer counts expired (they refresh them).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from dataclasses import dataclass

import httpx

from bench.common import (
    LIST_URL,
    CpuWatch,
    Report,
    at_most,
    bench_session,
    build_workspace,
    command_line,
    console_env,
    cpu_seconds,
    get_ok,
    info,
    prepare_console,
    run,
    server_timing,
    sign_in,
    start_console,
    start_emulator,
    wait_for_quiet,
    worker_pids,
)

WARM_UP = 5
TARGETS = {"list": 1.3, "detail": 1.5}


@dataclass
class Sample:
    app_ms: list[float]
    calls: list[int]
    cpu_ms: float  # worker CPU per request
    others: float  # share of the machine used by other work meanwhile


# What a browser sends on reload: the console then asks FastPix afresh instead of sharing a read made
# moments ago by someone else (LIST_SHARE_SECONDS). That is the path measured against L.
RELOAD = {"Cache-Control": "max-age=0"}


def measure(
    client: httpx.Client,
    url: str,
    count: int,
    pause: float,
    workers: list[int],
    headers: dict[str, str] | None = RELOAD,
) -> Sample:
    app_ms, calls = [], []
    cpu_before = sum(cpu_seconds(pid) for pid in workers)
    with CpuWatch() as watch:
        for _ in range(count):
            timing = server_timing(get_ok(client, url, headers).headers)
            app_ms.append(timing.app_ms)
            calls.append(timing.calls)
            time.sleep(pause)
    cpu_ms = (sum(cpu_seconds(pid) for pid in workers) - cpu_before) * 1000 / count
    return Sample(app_ms, calls, cpu_ms, watch.others)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between two requests")
    options = parser.parse_args()
    latency = options.latency_ms
    report = Report("latency", command_line(), context=vars(options).copy())
    report.context["machine_busy_before"] = wait_for_quiet()

    with bench_session("latency") as bench:
        emulator = start_emulator(bench, latency_ms=latency)
        active = build_workspace(emulator.control, total=200, newest=50, active=20)
        env = console_env(bench, emulator)
        prepare_console(env)
        # One worker, so that the warm-up warms the process that is measured (templates, connections).
        console = start_console(bench, env, GUNICORN_WORKERS="1")
        workers = worker_pids(console.process.pid)
        pages = {"list": LIST_URL, "detail": f"/streams/{active[0]}/"}
        with contextlib.closing(sign_in(console.base_url)) as client:
            warm, cold = {}, {}
            for name, url in pages.items():
                measure(client, url, WARM_UP, options.pause, workers)
                warm[name] = measure(client, url, options.samples, options.pause, workers)
            # Plain navigation (links, back/forward): loads within LIST_SHARE_SECONDS share a read.
            shared_list = measure(client, LIST_URL, options.samples, options.pause, workers, headers=None)
            # Wait out the viewer-count period (VIEWER_COUNT_TTL, 5 s) before each of these.
            for name, url in pages.items():
                cold[name] = measure(client, url, 3, 5.2, workers)

    for name, sample in warm.items():
        median_ms = statistics.median(sample.app_ms)
        report.add(
            at_most(f"{name}: median server time / L", median_ms / latency, TARGETS[name], "× L",
                    note=f"{median_ms:.1f} ms"),
            info(f"{name}: median FastPix calls per page", statistics.median(sample.calls), "calls"),
            info(f"{name}: worker CPU per page", sample.cpu_ms, "ms"),
            info(f"{name}: slowest of {len(sample.app_ms)} / L", max(sample.app_ms) / latency, "× L"),
            info(f"{name}: other work on the machine meanwhile", sample.others * 100, "%"),
        )  # fmt: skip
    report.add(
        info("list, navigation sharing a recent read: median / L", statistics.median(shared_list.app_ms) / latency,
             "× L", note=f"{statistics.median(shared_list.calls):.0f} FastPix calls, {shared_list.cpu_ms:.1f} ms CPU"),
    )  # fmt: skip
    for name, sample in cold.items():
        report.add(
            info(f"{name}, viewer counts expired: median / L", statistics.median(sample.app_ms) / latency, "× L",
                 note=f"{statistics.median(sample.calls):.0f} FastPix calls"),
        )  # fmt: skip
    return report.finish()


if __name__ == "__main__":
    run(main)
