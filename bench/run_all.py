"""Every benchmark in sequence, then every figure in one table (what `make bench` runs).

    .venv/bin/python -m bench.run_all [--quick] [--skip lighthouse ...]

Each benchmark runs as its own process (`python -m bench.<name>`), prints its table, and writes its figures
to bench/results/<name>.json. Exit code: 0 when every target is met, 1 when one is missed, 2 when a
benchmark could not run, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.common import RESULTS, ROOT

# idle first: what waking up costs on the machine right now, to read the cold figures with.
BENCHES = ("idle", "latency", "memory", "wall", "fanout", "throughput", "weight", "lighthouse")
QUICK = {
    "idle": ["--samples", "5"],
    "fanout": ["--seconds", "15"],
    "throughput": ["--seconds", "5"],
    "latency": ["--samples", "15"],
    "wall": ["--samples", "20"],
    "memory": ["--samples", "5", "--seconds", "20", "--streams", "2000", "--live", "100"],
}
TIMEOUT_SECONDS = 900  # per benchmark


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="shorter runs (a smoke test, figures are rougher)"
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=BENCHES)
    options = parser.parse_args()
    codes: dict[str, int] = {}
    for name in BENCHES:
        if name in options.skip:
            continue
        (RESULTS / f"{name}.json").unlink(missing_ok=True)
        argv = [sys.executable, "-m", f"bench.{name}", *(QUICK.get(name, []) if options.quick else [])]
        print(f"\n### {' '.join(argv[1:])}", flush=True)
        started = time.monotonic()
        try:
            codes[name] = subprocess.run(argv, cwd=ROOT, timeout=TIMEOUT_SECONDS).returncode
        except subprocess.TimeoutExpired:
            codes[name] = 2
            print(f"{name} took longer than {TIMEOUT_SECONDS} s", file=sys.stderr)
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        print(f"({name}: {time.monotonic() - started:.0f} s, exit {codes[name]})", flush=True)

    print("\n### every figure")
    for name in codes:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            print(f"== {name}: no figures (exit {codes[name]})")
            continue
        data = json.loads(path.read_text())
        print(f"== {name}: {data['command']}")
        for figure in data["figures"]:
            verdict = "" if figure["ok"] is None else ("met" if figure["ok"] else "MISSED")
            value = figure["value"]
            shown = f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
            print(f"  {figure['name']:<62} {shown:>8} {figure['unit']:<5} {figure['target']:<7} {verdict}")
    missed = [name for name, code in codes.items() if code == 1]
    broken = [name for name, code in codes.items() if code not in (0, 1)]
    print(f"\ntargets missed in: {', '.join(missed) or 'none'}; could not run: {', '.join(broken) or 'none'}")
    return 2 if broken else (1 if missed else 0)


if __name__ == "__main__":
    sys.exit(main())
