"""`python -m emulator --host 127.0.0.1 --port 8765 [--seed N [--live M]] [--simulate] [--webhook-url URL
--webhook-secret B64] [--rate-limit N] ...`"""

from __future__ import annotations

import argparse

import uvicorn

from emulator.app import create_app
from emulator.runtime import DEFAULT_SECRET, DEFAULT_TOKEN_ID
from emulator.webhooks import DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BASE_SECONDS, Target, is_signing_secret

DEMO_PROCESSING_SECONDS = 8.0  # long enough to see a recording go Processing → Ready in the demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="FastPix API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="fill the workspace with N streams")
    parser.add_argument(
        "--live",
        type=int,
        default=None,
        metavar="M",
        help="with --seed: exactly M of the seeded streams active, none preparing (e.g. --seed 10000 --live 500)",
    )
    parser.add_argument("--rng-seed", type=int, default=None, help="make seeding and ids deterministic")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="fixed latency added to every /v1 call")
    parser.add_argument("--token-id", default=DEFAULT_TOKEN_ID)
    parser.add_argument("--secret", default=DEFAULT_SECRET)
    parser.add_argument("--simulate", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--processing-seconds", type=float, default=DEMO_PROCESSING_SECONDS)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=0.0,
        metavar="N",
        help="/v1 requests per second per token id, then 429 with Retry-After (0: no limit, the default)",
    )
    parser.add_argument(
        "--webhook-url",
        default=None,
        metavar="URL",
        help="POST signed FastPix webhook events (contract §5) here, e.g. http://127.0.0.1:8000/webhooks/fastpix/",
    )
    parser.add_argument(
        "--webhook-secret",
        default=None,
        metavar="B64",
        help="the Base64 signing secret for FastPix-Signature (required with --webhook-url)",
    )
    parser.add_argument(
        "--webhook-max-attempts",
        type=int,
        default=DEFAULT_MAX_ATTEMPTS,
        metavar="N",
        help=f"deliveries of one event before giving up (default {DEFAULT_MAX_ATTEMPTS})",
    )
    parser.add_argument(
        "--webhook-retry-base",
        type=float,
        default=DEFAULT_RETRY_BASE_SECONDS,
        metavar="SECONDS",
        help=f"redelivery back-off: SECONDS × 2^n after the n+1-th failure (default {DEFAULT_RETRY_BASE_SECONDS})",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if (args.webhook_url is None) != (args.webhook_secret is None):
        parser.error("--webhook-url and --webhook-secret go together")
    if args.webhook_secret is not None and not is_signing_secret(args.webhook_secret):
        parser.error("--webhook-secret must be non-empty Base64")
    if args.webhook_max_attempts < 1:
        parser.error("--webhook-max-attempts must be at least 1")
    if args.rate_limit < 0 or (args.live is not None and args.live < 0):
        parser.error("--rate-limit and --live must not be negative")
    return args


def webhook_target(args: argparse.Namespace) -> Target | None:
    if args.webhook_url is None:
        return None
    return Target(
        url=args.webhook_url,
        signing_secret_b64=args.webhook_secret,
        max_attempts=args.webhook_max_attempts,
        retry_base_seconds=args.webhook_retry_base,
    )


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
        live=args.live,
        rate_limit=args.rate_limit,
        webhook=webhook_target(args),
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
