"""Lighthouse 12 (npm, run with Debian's Chromium) on the list, detail and recording pages of the demo
data: the emulator seeded with 60 streams (`--seed 60`, as `make demo`), gunicorn with DEBUG=0.

Lighthouse is installed into bench/.node/ on first use (`npm install lighthouse@12`, git-ignored).
It audits in a Chromium that this script starts (headless, remote debugging on 127.0.0.1) and signs in by
putting the session cookie into that browser's cookie jar (Playwright over CDP); Lighthouse then connects
with --port and does not clear cookies. (Lighthouse's --extra-headers Cookie is not used: Chromium drops
it from the pages' own htmx requests, which then land on /login/ and spoil the audit.)

Targets: performance, accessibility and best practices ≥ 0.95 on each page (SEO is printed only).
The recording and detail pages embed the FastPix player (https://play.fastpix.com): without internet the
frame fails to load; the table lists the audits that lost points so the effect can be read off.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import sync_playwright

from bench.common import (
    ROOT,
    SECRET,
    TOKEN_ID,
    Bench,
    BenchError,
    Emulator,
    Report,
    at_least,
    bench_session,
    command_line,
    console_env,
    free_port,
    info,
    prepare_console,
    run,
    sign_in,
    start_console,
    start_emulator,
    wait_until,
)

NODE_DIR = ROOT / "bench" / ".node"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
    "--disable-sync --disable-quic --no-first-run --no-default-browser-check"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = {"performance": 0.95, "accessibility": 0.95, "best-practices": 0.95}
PAGE_SECONDS = 240


def ensure_lighthouse() -> str:
    if not LIGHTHOUSE.exists():
        if shutil.which("npm") is None:
            raise BenchError("npm is not installed (apt-get install -y npm)")
        print("Installing lighthouse@12 into bench/.node/ …", flush=True)
        NODE_DIR.mkdir(exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(NODE_DIR),
             "lighthouse@12"],
            check=True, timeout=600,
        )  # fmt: skip
    version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True, timeout=60)
    return version.stdout.strip()


def v1(emulator: Emulator, path: str, **params: Any) -> Any:
    response = httpx.get(f"{emulator.api_base}{path}", params=params, auth=(TOKEN_ID, SECRET), timeout=30)
    response.raise_for_status()
    return response.json()


def pick_pages(emulator: Emulator) -> dict[str, str]:
    """An active stream (with a public playback ID if there is one) and a Ready public recording."""
    streams: list[dict[str, Any]] = []
    for offset in (1, 2):
        streams += v1(emulator, "/live/streams", limit=50, offset=offset, orderBy="desc").get("data", [])
    active = [s for s in streams if s.get("status") == "active"]
    if not active:
        raise BenchError("the seeded workspace has no active stream")
    public = [s for s in active if any(p.get("accessPolicy") == "public" for p in s.get("playbackIds", []))]
    pages = {"list": "/streams/", "detail": f"/streams/{(public or active)[0]['streamId']}/"}
    for stream in streams:
        for media_id in stream.get("mediaIds") or []:
            state = emulator.control.media(media_id)
            media = state.get("media", {})
            playable = any(p.get("accessPolicy") == "public" for p in media.get("playbackIds", []))
            if state.get("kind") == "recording" and media.get("status") == "Ready" and playable:
                pages["recording"] = f"/recordings/{media_id}/"
                return pages
    raise BenchError("the seeded workspace has no Ready public recording")


def start_browser(bench: Bench, base_url: str, cookies: dict[str, str]) -> int:
    """Headless Chromium with remote debugging on 127.0.0.1, holding the console's session cookie."""
    port = free_port()
    bench.start(
        "chromium",
        [CHROMIUM, *CHROME_FLAGS.split(), f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
         f"--user-data-dir={bench.workdir / 'chromium'}", "about:blank"],
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    wait_until(lambda: httpx.get(f"{endpoint}/json/version", timeout=2).status_code == 200, bench=bench,
               what="chromium")  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(endpoint)
        browser.contexts[0].add_cookies(
            [{"name": name, "value": value, "url": base_url} for name, value in cookies.items()]
        )
        browser.close()  # disconnects; the browser and its default profile's cookies stay
    return port


def audit(url: str, port: int, out: Path, preset: str | None) -> dict[str, Any]:
    argv = [
        str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet", f"--port={port}",
        f"--only-categories={','.join(CATEGORIES)}", "--disable-full-page-screenshot", "--max-wait-for-load=45000",
    ]  # fmt: skip
    if preset:
        argv.append(f"--preset={preset}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    # Its own session: on a timeout the whole group (node and the Chromium it launched) is stopped.
    process = subprocess.Popen(
        argv, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _, stderr = process.communicate(timeout=PAGE_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.communicate()
        raise BenchError(f"lighthouse took longer than {PAGE_SECONDS} s on {url}") from None
    if process.returncode != 0 or not out.exists():
        raise BenchError(f"lighthouse failed on {url}: {stderr.decode(errors='replace')[-800:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    # Signed out somewhere (the page itself or one of its htmx requests): the audit would be of /login/.
    requests = result["audits"].get("network-requests", {}).get("details", {}).get("items", [])
    to_login = [r["url"] for r in requests if "/login/" in r.get("url", "")]
    if to_login or "/login/" in result.get("finalDisplayedUrl", ""):
        raise BenchError(f"lighthouse was not signed in on {url}: {to_login[:3]}")
    return result


def lost_points(result: dict[str, Any], category: str) -> str:
    """The weighted audits of a category that scored below 1, worst first."""
    audits = result["audits"]
    lost = []
    for ref in result["categories"][category]["auditRefs"]:
        entry = audits.get(ref["id"], {})
        score = entry.get("score")
        if ref.get("weight", 0) > 0 and score is not None and score < 1:
            lost.append((score, ref["id"]))
    return ", ".join(f"{name} {score:.2f}" for score, name in sorted(lost)[:6])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=("desktop",), help="Lighthouse preset (default: mobile)")
    parser.add_argument("--keep-reports", action="store_true", help="copy the JSON reports to bench/results/")
    options = parser.parse_args()
    report = Report("lighthouse", command_line(), context={"preset": options.preset or "mobile"})
    report.context["lighthouse"] = ensure_lighthouse()

    with bench_session("lighthouse") as bench:
        emulator = start_emulator(bench, seed=60, rng_seed=60)
        env = console_env(bench, emulator)
        prepare_console(env)
        console = start_console(bench, env)
        pages = pick_pages(emulator)
        with contextlib.closing(sign_in(console.base_url)) as client:
            statuses = {name: client.get(path).status_code for name, path in pages.items()}
            cookies = dict(client.cookies.items())
        port = start_browser(bench, console.base_url, cookies)
        for name, path in pages.items():
            if statuses[name] != 200:
                report.add(
                    at_least(f"{name}: page answers 200", 0, 1, note=f"{path} answered {statuses[name]}")
                )
                continue
            out = bench.workdir / f"{name}.json"
            result = audit(console.base_url + path, port, out, options.preset)
            if options.keep_reports:
                (ROOT / "bench" / "results").mkdir(exist_ok=True)
                shutil.copy(out, ROOT / "bench" / "results" / f"lighthouse-{name}.json")
            for category in CATEGORIES:
                score = result["categories"][category]["score"]
                value = float("nan") if score is None else float(score)
                label = f"{name} {path}: {category}" if category == "performance" else f"{name}: {category}"
                note = lost_points(result, category)
                if category in TARGETS:
                    report.add(at_least(label, value, TARGETS[category], note=note))
                else:
                    report.add(info(label, value, note=note))
            requests = result["audits"]["network-requests"]["details"]["items"]
            foreign = [
                r
                for r in requests
                if r["url"].startswith("http") and not r["url"].startswith(console.base_url)
            ]
            if foreign:
                hosts = sorted({urlsplit(r["url"]).netloc for r in foreign})
                failed = sum(1 for r in foreign if (r.get("statusCode") or -1) < 0)
                report.add(info(f"{name}: requests to other origins", len(foreign),
                                note=f"{', '.join(hosts)}; {failed} failed (no internet here)"))  # fmt: skip
            warnings = result.get("runWarnings") or []
            if warnings:
                report.add(
                    info(f"{name}: Lighthouse warnings", len(warnings), note=" | ".join(warnings)[:200])
                )
    return report.finish()


if __name__ == "__main__":
    run(main)
