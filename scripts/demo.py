"""`make demo`: the console and a seeded, lively FastPix emulator, ready to click through.

Migrates a SQLite database under .demo/, creates one demo user per role and prints their logins, starts
the emulator (60 streams, simulation on) and serves the console with gunicorn. Ctrl-C stops both.
With FASTPIX_TOKEN_ID and FASTPIX_SECRET_KEY in the environment, the console talks to real FastPix
instead and no emulator is started.
"""

from __future__ import annotations

import argparse
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
                 "--token-id", EMULATOR_TOKEN_ID, "--secret", EMULATOR_SECRET],
                cwd=ROOT,
            )  # fmt: skip
            children.append(emulator)
            wait_for_port(emulator_port, emulator)
        console = subprocess.Popen([sys.executable, "-m", "gunicorn", "dashboard.wsgi"], cwd=ROOT, env=env)
        children.append(console)
        wait_for_port(options.port, console)

        where = "real FastPix" if real_fastpix else f"the FastPix emulator on 127.0.0.1:{emulator_port}"
        print(f"\n  FastPix live console: http://{options.host}:{options.port}/   (talking to {where})\n")
        print("  Demo logins (username / password):")
        for username, role in DEMO_USERS:
            print(f"    {role:<9} {username} / {username}-demo-pass")
        print("\n  Ctrl-C stops the console and the emulator.\n", flush=True)
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
