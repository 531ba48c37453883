"""Child processes on 127.0.0.1 for the browser tests and the benchmarks: the site under
gunicorn, the task worker and the fakes, each logging to a file, plus the database helpers.

The e2e fixture (tests/e2e/conftest.py) and the benchmark harness (bench/) both start the site
this way, so what the journeys test and what the benchmark measures is the same set-up.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_url(database_url: str, database: str) -> str:
    """The same PostgreSQL server's URL, naming another database."""
    parts = urlsplit(database_url.replace("postgres://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/" + database))


@dataclass
class Process:
    """A child process whose output goes to a log file, shown when something fails."""

    name: str
    popen: subprocess.Popen[str]
    log_path: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class LiveSite:
    base_url: str
    env: dict[str, str]
    workdir: Path
    processes: list[Process] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str) -> str:
        """Runs a management command against the site's database; returns its output."""
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            output = result.stdout + result.stderr
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{output}")
        return result.stdout

    def start(
        self,
        name: str,
        command: list[str],
        *,
        ready_line: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """Starts a child process; with ready_line, waits for a stdout line starting with it.

        `env` replaces the site's environment for this process only.
        """
        log_path = self.workdir / f"{name}.log"
        popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env if env is None else env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        process = Process(name, popen, log_path)
        self.processes.append(process)
        assert popen.stdout is not None
        found = threading.Event()
        first_line: list[str] = []
        threading.Thread(
            target=_copy_output,
            args=(popen.stdout, log_path, ready_line, found, first_line),
            daemon=True,
        ).start()
        if ready_line is None:
            return ""
        if not found.wait(START_TIMEOUT_S):
            raise RuntimeError(f"{name} did not print {ready_line!r}\n{process.log_tail()}")
        return first_line[0]

    def stop(self, name: str) -> None:
        """Stops the named child processes and forgets them."""
        for process in [p for p in self.processes if p.name == name]:
            process.stop()
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(process.log_tail() for process in self.processes)

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            for process in self.processes:
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited early\n{self.logs()}")
            time.sleep(0.3)
        raise RuntimeError(f"the site did not answer /healthz\n{self.logs()}")


def _copy_output(
    stream: IO[str],
    log_path: Path,
    ready_line: str | None,
    found: threading.Event,
    first_line: list[str],
) -> None:
    # Drains the child's output so it never blocks on a full pipe.
    with log_path.open("w", encoding="utf-8") as log:
        for line in stream:
            log.write(line)
            log.flush()
            if ready_line and not found.is_set() and line.startswith(ready_line):
                first_line.append(line.strip())
                found.set()
