"""Throughput and memory of gunicorn as `make run` configures it (gunicorn.conf.py defaults: 2 gthread
workers × 8 threads), with the emulator answering at once (L = 0).

wrk runs for 20 s against the list page (50 rows, 20 of them active; the session cookie passed with -H)
and for 20 s against /healthz, in the same run, alternating in 4 rounds of 5 s so that a slower phase of
the shared machine weighs on both rates alike. Targets: the list page serves ≥ 30 % of the /healthz
rate; each worker's peak RSS (VmHWM in /proc/<pid>/status) after both runs is ≤ 120 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import statistics
import subprocess

from bench.common import (
    LIST_URL,
    BenchError,
    CpuWatch,
    Report,
    at_least,
    at_most,
    bench_session,
    build_workspace,
    command_line,
    console_env,
    cookie_header,
    cpu_seconds,
    get_ok,
    info,
    prepare_console,
    proc_status_kb,
    run,
    sign_in,
    start_console,
    start_emulator,
    wait_for_quiet,
    worker_pids,
)

_RATE = re.compile(r"Requests/sec:\s+([0-9.]+)")
_TOTAL = re.compile(r"(\d+) requests in ([0-9.]+)(ms|s|m), ([0-9.]+)([KMG]?B) read")
_BAD = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_LATENCY = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, seconds: int, threads: int, connections: int, headers: list[str]) -> dict[str, float]:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        argv += ["-H", header]
    result = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 60)
    out = result.stdout
    rate, total = _RATE.search(out), _TOTAL.search(out)
    if result.returncode != 0 or rate is None or total is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{out}\n{result.stderr}")
    requests = int(total.group(1))
    duration_s = float(total.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total.group(3)]
    bad = _BAD.search(out)
    errors = _ERRORS.search(out)
    latency = {p: float(v) * _MS[u] for p, v, u in _LATENCY.findall(out)}
    return {
        "requests": requests,
        "seconds": duration_s,
        "bytes": float(total.group(4)) * _UNITS[total.group(5)],
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
    }


def combine(parts: list[dict[str, float]]) -> dict[str, float]:
    """Several wrk runs of one URL as one: totals, and per-request figures from the totals."""
    requests = sum(p["requests"] for p in parts)
    return {
        "rate": requests / sum(p["seconds"] for p in parts),
        "requests": requests,
        "bytes_per_request": sum(p["bytes"] for p in parts) / max(requests, 1),
        "bad": sum(p["bad"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
        "p50_ms": statistics.median(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "worker_cpu_ms": sum(p["worker_cpu"] for p in parts) * 1000 / max(requests, 1),
        "emulator_cpu_ms": sum(p["emulator_cpu"] for p in parts) * 1000 / max(requests, 1),
        "others": max(p["others"] for p in parts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20, help="per URL (default 20)")
    parser.add_argument("--rounds", type=int, default=4, help="alternate the URLs in this many rounds")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (2 workers × 8 threads)")
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (apt-get install -y wrk)")
    report = Report("throughput", command_line(), context=vars(options).copy())
    report.context["machine_busy_before"] = wait_for_quiet()

    with bench_session("throughput") as bench:
        emulator = start_emulator(bench, latency_ms=0)
        build_workspace(emulator.control, total=200, newest=50, active=20)
        env = console_env(bench, emulator)
        prepare_console(env)
        console = start_console(bench, env)  # gunicorn.conf.py defaults: nothing overridden
        with contextlib.closing(sign_in(console.base_url)) as client:
            page = get_ok(client, LIST_URL)
            cookie = cookie_header(client)
        workers = worker_pids(console.process.pid)
        targets = {
            "list": (console.base_url + LIST_URL, [f"Cookie: {cookie}"]),
            "healthz": (console.base_url + "/healthz", []),
        }
        # Alternating rounds, so that a slower or faster phase of this shared machine hits both alike.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        chunk = max(1, options.seconds // options.rounds)
        for _ in range(options.rounds):
            for name, (url, headers) in targets.items():
                workers_before = sum(cpu_seconds(pid) for pid in workers)
                emulator_before = cpu_seconds(emulator.process.pid)
                with CpuWatch() as watch:
                    result = wrk(url, seconds=chunk, threads=options.threads, connections=options.connections,
                                 headers=headers)  # fmt: skip
                result["worker_cpu"] = sum(cpu_seconds(pid) for pid in workers) - workers_before
                result["emulator_cpu"] = cpu_seconds(emulator.process.pid) - emulator_before
                result["others"] = watch.others
                runs[name].append(result)
        results = {name: combine(parts) for name, parts in runs.items()}
        peaks = {pid: proc_status_kb(pid, "VmHWM") / 1024 for pid in workers}
        if worker_pids(console.process.pid) != workers:
            report.add(info("workers restarted during the run", 1))

    listing, health = results["list"], results["healthz"]
    # A redirect to /login/ would count as success in wrk: the bytes per request prove it was the page.
    page_ok = listing["bytes_per_request"] >= 0.9 * len(page.content)
    report.add(
        info("list page rate", listing["rate"], "req/s", note=f"p50 {listing['p50_ms']:.1f} ms, p99 {listing['p99_ms']:.1f} ms"),
        info("/healthz rate", health["rate"], "req/s", note=f"p50 {health['p50_ms']:.1f} ms, p99 {health['p99_ms']:.1f} ms"),
        at_least("list rate / healthz rate", listing["rate"] / health["rate"] * 100, 30, "%"),
        info("list: worker CPU per request", listing["worker_cpu_ms"], "ms"),
        info("/healthz: worker CPU per request", health["worker_cpu_ms"], "ms"),
        info("list: emulator CPU per request", listing["emulator_cpu_ms"], "ms", note="the 1 list call"),
        info("list: bytes per response", listing["bytes_per_request"], "B",
             note="" if page_ok else f"MISMATCH: the page is {len(page.content)} B"),
        at_most("non-2xx/3xx responses and socket errors",
                listing["bad"] + listing["socket_errors"] + health["bad"] + health["socket_errors"], 0),
        info("other work on the machine (list, healthz)", max(listing["others"], health["others"]) * 100, "%",
             note=f"{listing['others']:.0%}, {health['others']:.0%}"),
    )  # fmt: skip
    if not page_ok:
        report.add(at_least("list responses were the full page", 0, 1))
    for n, (pid, peak) in enumerate(sorted(peaks.items()), start=1):
        report.add(at_most(f"worker {n} peak RSS (VmHWM)", peak, 120, "MB", note=f"pid {pid}"))
    return report.finish()


if __name__ == "__main__":
    run(main)
