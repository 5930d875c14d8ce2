"""The control wall (/wall/) with 24 live streams: what one refresh costs the console, and FastPix.

The emulator (every FastPix call L = 50 ms) holds 24 live streams; one gunicorn worker serves the console
and `manage.py console_worker` keeps its memory (the mirror, viewer samples, readiness lights) as in
production, with signed webhooks. A signed-in tab then refreshes the wall as the page does (htmx, the
poll URL the last answer carried):

  unchanged  the poll carries the token of the wall it shows and nothing changed: the poller alone.
  changed    the poll carries an older token (the sampler writes new counts every period): all 24 tiles,
             each with its lights, viewers, sparkline (the last 10 minutes of samples) and times.

Figures: the console's own time (Server-Timing app) p50/p95 and bytes per refresh, for both, and the
FastPix calls per refresh (Server-Timing fastpix) over every refresh measured. Targets: 0 FastPix calls
per refresh (issue 13) and an unchanged refresh ≤ 1 kB (it is the poller alone); the times are shown
with the machine's other load beside them. The bench runs for about a minute, so the sparklines hold a
minute of samples, not the ten a wall live for a while draws (in process, 24 tiles with ten minutes of
samples each, ~2,900 rows, render in ~25 ms on this machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import time

import httpx

from bench.common import (
    BenchError,
    CpuWatch,
    Report,
    at_most,
    bench_session,
    command_line,
    get_ok,
    info,
    percentile,
    run,
    server_timing,
    sign_in,
    start_emulator,
    wait_for_quiet,
)
from bench.memory import deploy

STREAMS = 24
POLLER = re.compile(r'id="wall-poller" data-poll hx-get="([^"]+)"')
TILE = re.compile(r'<li class="tile')
HTMX = {"HX-Request": "true"}
STALE_TOKEN = "0-1-0"  # no wall ever carried it: the answer is always the whole wall


def poll_url(html: str) -> str:
    match = POLLER.search(html)
    if match is None:
        raise BenchError("no wall poller in the answer")
    return match.group(1).replace("&amp;", "&")


def measure(client: httpx.Client, samples: int, pause: float) -> dict[str, list[tuple[float, int, int]]]:
    """(server ms, bytes, FastPix calls) of `samples` unchanged and `samples` changed refreshes."""
    found: dict[str, list[tuple[float, int, int]]] = {"unchanged": [], "changed": []}
    url = poll_url(get_ok(client, "/wall/").text)
    while len(found["unchanged"]) < samples:
        response = client.get(url, headers=HTMX)
        timing = server_timing(response.headers)
        kind = "changed" if TILE.search(response.text) else "unchanged"
        if kind == "unchanged":
            found[kind].append((timing.app_ms, len(response.content), timing.calls))
        url = poll_url(response.text)  # as the page does: the next poll carries what this one showed
        time.sleep(pause)
    while len(found["changed"]) < samples:
        response = client.get(f"/wall/?v={STALE_TOKEN}", headers=HTMX)
        if len(TILE.findall(response.text)) != STREAMS:
            raise BenchError(f"a changed refresh showed {len(TILE.findall(response.text))} tiles")
        timing = server_timing(response.headers)
        found["changed"].append((timing.app_ms, len(response.content), timing.calls))
        time.sleep(pause)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--samples", type=int, default=50, help="refreshes of each kind")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between two refreshes")
    options = parser.parse_args()
    report = Report("wall", command_line(), context=vars(options).copy())
    report.context["machine_busy_before"] = wait_for_quiet()
    with bench_session("wall") as bench:
        emulator = start_emulator(bench, latency_ms=options.latency_ms)
        emulator.control.reset()
        for n in range(STREAMS):
            emulator.control.create_stream(
                status="active", views=50 + 37 * n, metadata={"livestream_name": f"Wall stage {n:02d}"}
            )
        # The worker's readiness job fetches live manifests: from the emulator's stand-in for the stream
        # host, as `make demo` does, never from the real one (console_env copies this process's environment).
        os.environ["FASTPIX_STREAM_URL"] = f"{emulator.base_url}/stream"
        deployment = deploy(bench, emulator, web=1, workers=1)
        with contextlib.closing(sign_in(deployment.consoles[0].base_url)) as client:
            page = get_ok(client, "/wall/")
            if len(TILE.findall(page.text)) != STREAMS:
                raise BenchError(f"the wall shows {len(TILE.findall(page.text))} of {STREAMS} live streams")
            measure(client, 5, options.pause)  # warm-up: templates, connections
            with CpuWatch() as watch:
                found = measure(client, options.samples, options.pause)
    calls = [c for rows in found.values() for _, _, c in rows]
    report.add(at_most("FastPix calls per wall refresh (max)", max(calls), 0, note=f"{len(calls)} refreshes"))
    for kind in ("unchanged", "changed"):
        times = [ms for ms, _, _ in found[kind]]
        sizes = [size for _, size, _ in found[kind]]
        report.add(
            info(f"wall refresh, {kind}: server time p50", percentile(times, 50), "ms",
                 note=f"p95 {percentile(times, 95):.1f} ms, max {max(times):.1f} ms"),
        )  # fmt: skip
        if kind == "unchanged":
            report.add(at_most("wall refresh, unchanged: bytes", statistics.median(sizes), 1024, "B"))
        else:
            report.add(info(f"wall refresh, changed: bytes ({STREAMS} tiles)", statistics.median(sizes), "B"))
    report.add(
        info("wall page (first load): bytes", len(page.content), "B"),
        info("other work on the machine while measuring", watch.others * 100, "%"),
    )
    return report.finish()


if __name__ == "__main__":
    run(main)
