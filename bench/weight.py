"""Page weight: the bytes a cold load of the list page transfers with all its static files, and the
requests it makes to any origin other than the console.

gunicorn runs with DEBUG=0 and the manifest static storage (collectstatic), so whitenoise serves the
pre-compressed static files. Debian's Chromium (Playwright) signs in, then opens the list page in a fresh
tab with the cache disabled and adds up every response's `encodedDataLength` (Network.loadingFinished:
what went over the wire, headers included) and notes every request's origin.

Targets (list page, 50 rows): ≤ 60 KB transferred (1 KB = 1000 bytes), 0 requests to other origins.
"""

from __future__ import annotations

import argparse
import gzip
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import BrowserContext, sync_playwright

from bench.common import (
    LIST_URL,
    PASSWORD,
    USERNAME,
    BenchError,
    Report,
    at_most,
    bench_session,
    build_workspace,
    command_line,
    console_env,
    info,
    prepare_console,
    run,
    start_console,
    start_emulator,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SETTLE_SECONDS = 1.5  # after `load`: htmx's own requests on load, but before the first poll (5 s)


@dataclass
class Load:
    urls: dict[str, str] = field(default_factory=dict)  # requestId → URL
    encoded: dict[str, int] = field(default_factory=dict)  # requestId → bytes on the wire
    encoding: dict[str, str] = field(default_factory=dict)  # requestId → content-encoding
    failed: dict[str, str] = field(default_factory=dict)

    def on_request(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def on_response(self, event: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
        self.encoding[event["requestId"]] = headers.get("content-encoding", "")

    def on_finished(self, event: dict[str, Any]) -> None:
        self.encoded[event["requestId"]] = int(event["encodedDataLength"])

    def on_failed(self, event: dict[str, Any]) -> None:
        self.failed[event["requestId"]] = event.get("errorText", "")


def cold_load(context: BrowserContext, url: str) -> Load:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    load = Load()
    cdp.on("Network.requestWillBeSent", load.on_request)
    cdp.on("Network.responseReceived", load.on_response)
    cdp.on("Network.loadingFinished", load.on_finished)
    cdp.on("Network.loadingFailed", load.on_failed)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    response = page.goto(url, wait_until="load", timeout=30_000)
    if response is None or response.status != 200 or "/login/" in page.url:
        raise BenchError(f"{url} did not load as a signed-in page (ended at {page.url})")
    page.wait_for_timeout(SETTLE_SECONDS * 1000)
    page.close()
    return load


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    options = parser.parse_args()
    report = Report("weight", command_line())

    with bench_session("weight") as bench:
        emulator = start_emulator(bench)
        build_workspace(emulator.control, total=200, newest=50, active=20)
        env = console_env(bench, emulator)
        prepare_console(env)
        console = start_console(bench, env)
        origin = console.base_url
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=not options.headed, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{origin}/login/")
                page.fill("#id_username", USERNAME)
                page.fill("#id_password", PASSWORD)
                with page.expect_navigation():
                    page.click("button[type=submit]")
                page.close()
                loads = {"list (size=50)": cold_load(context, origin + LIST_URL)}
                loads["list (default size)"] = cold_load(context, origin + "/streams/")
                version = browser.version
                cookies = {
                    c["name"]: c["value"] for c in context.cookies() if c.get("name") and c.get("value")
                }
            finally:
                browser.close()
        # What the HTML alone would weigh compressed, for comparison (same cookie as the browser).
        html = httpx.get(origin + LIST_URL, cookies=cookies, timeout=30).content

    report.context["chromium"] = version
    for name, load in loads.items():
        total = sum(load.encoded.values())
        foreign = sorted(
            {
                url
                for url in load.urls.values()
                if urlsplit(url).scheme in ("http", "https") and not url.startswith(origin + "/")
            }
        )
        note = f"{len(load.encoded)} responses"
        if name == "list (size=50)":
            report.add(at_most(f"{name}: bytes transferred", total / 1000, 60, "KB", note=note))
        else:
            report.add(info(f"{name}: bytes transferred", total / 1000, "KB", note=note))
        report.add(
            at_most(f"{name}: requests to other origins", len(foreign), 0, note=", ".join(foreign)[:200]),
            info(f"{name}: failed requests", len(load.failed), note=", ".join(load.failed.values())[:200]),
        )
        for request_id, url in load.urls.items():
            if request_id in load.encoded:
                path = urlsplit(url).path or url
                report.add(info(f"  {path[:60]}", load.encoded[request_id] / 1000, "KB",
                                note=load.encoding.get(request_id) or "not compressed"))  # fmt: skip
    report.add(
        info("list (size=50) HTML uncompressed", len(html) / 1000, "KB"),
        info("list (size=50) HTML if gzipped (level 6)", len(gzip.compress(html, 6)) / 1000, "KB"),
    )
    return report.finish()


if __name__ == "__main__":
    run(main)
