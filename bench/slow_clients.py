"""Slow clients against the real server: 64 connections trickle POST bodies at 1 byte/s
while a normal user loads the login page; then one trickling body must get its 408.

Run: `python -m bench.slow_clients [--worker-class uvicorn|gthread]` with DATABASE_URL
pointing at a migrated database. It starts gunicorn with gunicorn.conf.py on a free port,
prints the login page's latencies (p50, p95, max, failures) and what the trickling clients
got, and exits non-zero when p95 >= 1 s or the slow body was not cut with 408.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRICKLERS = 64
BODY_BYTES = 4000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def csrf_cookie(port: int) -> str:
    """A CSRF cookie, so the login view reads the body (without one, CSRF refuses at once)."""
    response = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10)
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith("csrftoken="):
            return header.split(";", 1)[0]
    raise SystemExit("no CSRF cookie on the login page")


def trickle(port: int, cookie: str, stop: threading.Event, outcome: list[str]) -> None:
    """POST /accounts/login/ whose body comes at one byte a second until `stop`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
            connection.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                + f"Cookie: {cookie}\r\nContent-Length: {BODY_BYTES}\r\n\r\n".encode()
            )
            connection.settimeout(1.0)
            while not stop.is_set():
                connection.sendall(b"a")
                try:
                    answer = connection.recv(200)
                except TimeoutError:
                    continue
                outcome.append(answer.split(b"\r\n", 1)[0].decode() or "closed")
                return
            outcome.append("still open")
    except OSError as error:
        outcome.append(f"error {type(error).__name__}")


def login_page_latencies(port: int, count: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = 0
    for _ in range(count):
        started = time.monotonic()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).read()
            latencies.append(time.monotonic() - started)
        except OSError:
            failures += 1
        time.sleep(0.2)
    return latencies, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--worker-class", default="uvicorn", choices=["uvicorn", "gthread"])
    parser.add_argument("--requests", type=int, default=40)
    arguments = parser.parse_args(argv)
    port = free_port()
    environment = {
        **os.environ,
        "GUNICORN_WORKER_CLASS": arguments.worker_class,
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(port)
        cookie = csrf_cookie(port)
        stop = threading.Event()
        outcomes: list[str] = []
        threads = [
            threading.Thread(target=trickle, args=(port, cookie, stop, outcomes), daemon=True)
            for _ in range(TRICKLERS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(2)  # every trickler connected and holding its request open
        latencies, failures = login_page_latencies(port, arguments.requests)
        # The tricklers have been going for ~10 s by now; give the floor rate time to cut.
        for thread in threads:
            thread.join(timeout=30)
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)

    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("inf")
    answers = {answer: outcomes.count(answer) for answer in sorted(set(outcomes))}
    print(f"worker class: {arguments.worker_class}, {TRICKLERS} clients trickling 1 byte/s")
    if ordered:
        print(
            f"login page: {len(ordered)} answered, {failures} failed; "
            f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms"
        )
    else:
        print(f"login page: none answered, {failures} failed")
    print(f"trickling clients got: {answers}")
    cut = answers.get("HTTP/1.1 408 Request Timeout", 0)
    return 0 if p95 < 1.0 and failures == 0 and cut == TRICKLERS else 1


if __name__ == "__main__":
    raise SystemExit(main())
