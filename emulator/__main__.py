"""`python -m emulator --host 127.0.0.1 --port 8765 [--seed N] [--simulate] ...`"""

from __future__ import annotations

import argparse

import uvicorn

from emulator.app import create_app
from emulator.runtime import DEFAULT_SECRET, DEFAULT_TOKEN_ID

DEMO_PROCESSING_SECONDS = 8.0  # long enough to see a recording go Processing → Ready in the demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="FastPix API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="fill the workspace with N streams")
    parser.add_argument("--rng-seed", type=int, default=None, help="make seeding and ids deterministic")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fixed latency added to every /v1 call")
    parser.add_argument("--token-id", default=DEFAULT_TOKEN_ID)
    parser.add_argument("--secret", default=DEFAULT_SECRET)
    parser.add_argument("--simulate", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--processing-seconds", type=float, default=DEMO_PROCESSING_SECONDS)
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    app = create_app(
        token_id=args.token_id,
        secret=args.secret,
        seed=args.seed,
        latency_ms=args.latency_ms,
        simulate=args.simulate,
        processing_seconds=args.processing_seconds,
        rng_seed=args.rng_seed,
    )
    base = f"http://{args.host}:{args.port}"
    print(f"FastPix emulator listening on {base} (API base {base}/v1, control {base}/_emulator)", flush=True)
    # A hung (fault-injected) request must not keep Ctrl-C waiting for long.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
