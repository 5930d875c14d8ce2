"""What waking up costs on this machine, apart from the console: the floor under every cold figure.

A child process answers one byte over a local socket, touching `MB` of its own memory first (one byte per
4 KB page, as an interpreter touches its objects). The round trip is timed warm (back to back) and after
the process sat idle for a pause. On an ordinary server the pause changes nothing. On this VM memory left
idle for a fraction of a second costs several microseconds a page to touch again, so a Python process
(the emulator, gunicorn) answers its first request after a pause slower, and by how much moves with the
host. The cold figures of memory.py pause like this before each request; read them with this table.
No target: it describes the machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time

from bench.common import Report, command_line, info, run

PAGE = 4096
TOUCHED_MB = 20  # of the order of a Python server's working set (the emulator, a gunicorn worker)


def _serve(listener: socket.socket, megabytes: int) -> None:
    memory = bytearray(megabytes * 1024 * 1024)
    for i in range(0, len(memory), PAGE):  # every page written once, as a heap is
        memory[i] = 1
    connection, _ = listener.accept()
    while connection.recv(1):
        for i in range(0, len(memory), PAGE):
            memory[i] = (memory[i] + 1) & 0xFF
        connection.sendall(b"x")
    os._exit(0)


def round_trips(megabytes: int, pause: float, samples: int) -> float:
    """Median round trip in ms to a process that touches `megabytes` per answer, after `pause` idle."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    address = listener.getsockname()
    child = os.fork()
    if child == 0:
        _serve(listener, megabytes)
    listener.close()
    timings: list[float] = []
    with socket.create_connection(address) as peer:
        peer.sendall(b"x")
        peer.recv(1)  # the child is up and has touched its memory once
        for _ in range(samples):
            time.sleep(pause)
            started = time.perf_counter()
            peer.sendall(b"x")
            peer.recv(1)
            timings.append((time.perf_counter() - started) * 1000)
    os.waitpid(child, 0)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=10)
    options = parser.parse_args()
    report = Report("idle", command_line(), context=vars(options).copy())
    pages = TOUCHED_MB * 1024 * 1024 // PAGE
    for pause in (0.1, 1.0):
        # Waking alone, then waking and touching the memory: the difference is what the pages cost.
        n = options.samples
        woken = round_trips(0, pause, n) - round_trips(0, 0.0, n)
        touched = round_trips(TOUCHED_MB, pause, n) - round_trips(TOUCHED_MB, 0.0, n)
        report.add(
            info(f"answering after {pause:g} s idle, less warm", woken, "ms"),
            info(f"touching {TOUCHED_MB} MB after {pause:g} s idle, less warm", touched, "ms",
                 note=f"{(touched - woken) * 1000 / pages:.1f} µs a page"),
        )  # fmt: skip
    return report.finish()


if __name__ == "__main__":
    run(main)
