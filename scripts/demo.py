"""`make demo`: the console and a seeded, lively FastPix emulator, ready to click through.

Migrates a SQLite database under .demo/, creates one demo user per role and prints their logins, starts
the emulator (60 streams, simulation on) sending signed webhooks to the console, serves the console with
gunicorn and runs one `console_worker` next to it (its log in .demo/worker.log). Ctrl-C stops them all.
The webhook signing secret is new for every demo (Base64 of 32 random bytes, kept in .demo/webhook_secret).
With FASTPIX_TOKEN_ID and FASTPIX_SECRET_KEY in the environment, the console talks to real FastPix
instead and no emulator is started; webhooks then need FASTPIX_WEBHOOK_SECRET and a console FastPix can
reach, and without them the worker keeps statuses fresh by itself.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".demo"
DEMO_USERS = (("admin", "admin"), ("producer", "producer"), ("reviewer", "reviewer"))
EMULATOR_TOKEN_ID = "demo-token-id"
EMULATOR_SECRET = "demo-secret-key"  # the emulator's own demo credential


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"A demo process exited early (code {process.returncode}).")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"Nothing answered on port {port} after {seconds:.0f} s.")


def secret_key() -> str:
    path = STATE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def webhook_secret() -> str:
    """A new signing secret for this demo, shared by the emulator (signs) and the console (verifies)."""
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    path = STATE / "webhook_secret"
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def webhook_url(host: str, port: int) -> str:
    local = host in {"0.0.0.0", "::", "localhost", "127.0.0.1"}  # noqa: S104 (compared, not bound)
    return f"http://{'127.0.0.1' if local else host}:{port}/webhooks/fastpix/"


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--emulator-port", type=int, default=8765)
    parser.add_argument("--streams", type=int, default=60)
    options = parser.parse_args()
    STATE.mkdir(exist_ok=True)

    real_fastpix = bool(os.environ.get("FASTPIX_TOKEN_ID") and os.environ.get("FASTPIX_SECRET_KEY"))
    env = {
        **os.environ,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secret_key(),
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": f"{options.host},127.0.0.1,localhost",
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{STATE / 'demo.sqlite3'}"),
        "GUNICORN_BIND": f"{options.host}:{options.port}",
    }
    children: list[subprocess.Popen[bytes]] = []
    if not real_fastpix:
        emulator_port = free_port(options.emulator_port)
        env.update(
            FASTPIX_API_BASE=f"http://127.0.0.1:{emulator_port}/v1",
            FASTPIX_TOKEN_ID=EMULATOR_TOKEN_ID,
            FASTPIX_SECRET_KEY=EMULATOR_SECRET,
            FASTPIX_WEBHOOK_SECRET=webhook_secret(),
            # The emulator's stand-ins for FastPix's player and stream host (emulator/playback.py): the
            # preview and recordings play its test pattern instead of a broken frame, and the Playable
            # light probes its manifests. The console's CSP frames the player's origin (settings).
            FASTPIX_PLAYER_URL=f"http://127.0.0.1:{emulator_port}/player",
            FASTPIX_STREAM_URL=f"http://127.0.0.1:{emulator_port}/stream",
        )

    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    for username, role in DEMO_USERS:
        password = f"{username}-demo-pass"
        user_env = {**env, "DEMO_PASSWORD": password}
        subprocess.run(
            [sys.executable, "manage.py", "create_console_user", username, "--role", role,
             "--password-env", "DEMO_PASSWORD", "--skip-validation"],
            cwd=ROOT, env=user_env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    try:
        if not real_fastpix:
            emulator = subprocess.Popen(
                [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(emulator_port),
                 "--seed", str(options.streams), "--simulate",
                 "--token-id", EMULATOR_TOKEN_ID, "--secret", EMULATOR_SECRET,
                 "--webhook-url", webhook_url(options.host, options.port),
                 "--webhook-secret", env["FASTPIX_WEBHOOK_SECRET"]],
                cwd=ROOT,
            )  # fmt: skip
            children.append(emulator)
            wait_for_port(emulator_port, emulator)
        console = subprocess.Popen([sys.executable, "-m", "gunicorn", "dashboard.wsgi"], cwd=ROOT, env=env)
        children.append(console)
        wait_for_port(options.port, console)
        with (STATE / "worker.log").open("ab") as worker_log:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "console_worker", "--holder", "demo"],
                cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        children.append(worker)

        where = "real FastPix" if real_fastpix else f"the FastPix emulator on 127.0.0.1:{emulator_port}"
        print(f"\n  FastPix live console: http://{options.host}:{options.port}/   (talking to {where})\n")
        print("  Demo logins (username / password):")
        for username, role in DEMO_USERS:
            print(f"    {role:<9} {username} / {username}-demo-pass")
        webhooks = "signed webhooks from the emulator" if not real_fastpix else "its own reads of FastPix"
        if real_fastpix and env.get("FASTPIX_WEBHOOK_SECRET"):
            webhooks = "FastPix's webhooks, if it can reach this console, and its own reads"
        print(f"\n  The console's memory is kept by one worker with {webhooks}; its log: .demo/worker.log")
        print("\n  Ctrl-C stops the console, the worker and the emulator.\n", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("A demo process stopped; shutting down the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping…")
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
