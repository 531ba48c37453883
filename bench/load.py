"""Runs locust headless against a site and returns what every request got.

The locustfiles (bench/locustfiles/) record each request's name, time and status into a JSON
file at the end of the run (bench/locustfiles/recorder.py), so the scenarios compute exact
percentiles and count statuses (429 is an answer, 5xx or no answer is not).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import PYTHON, ROOT

LOCUSTFILES = Path(__file__).resolve().parent / "locustfiles"


@dataclass
class Requests:
    """Every request of one name: times in ms and the status of each (0: no answer)."""

    times_ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def status_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for status in self.statuses:
            counts[status] = counts.get(status, 0) + 1
        return dict(sorted(counts.items()))


def locust_run(
    *,
    locustfile: str,
    host: str,
    users: int,
    spawn_rate: float,
    run_time_s: int,
    workdir: Path,
    env: dict[str, str],
    cpus: str | None = None,
) -> dict[str, Requests]:
    results = workdir / f"locust-{Path(locustfile).stem}.json"
    results.unlink(missing_ok=True)
    command = [
        PYTHON, "-m", "locust", "-f", str(LOCUSTFILES / locustfile), "--headless",
        "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{run_time_s}s",
        "--stop-timeout", "10", "--host", host, "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    log = workdir / f"locust-{Path(locustfile).stem}.log"
    with log.open("w", encoding="utf-8") as output:
        subprocess.run(
            command,
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "PYTHONPATH": str(ROOT),
                "BENCH_LOCUST_RESULTS": str(results),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=run_time_s + 120,
            check=False,
        )
    if not results.exists():
        raise RuntimeError(f"locust wrote no results; see {log}")
    raw = json.loads(results.read_text(encoding="utf-8"))
    return {
        name: Requests(times_ms=entry["times_ms"], statuses=entry["statuses"])
        for name, entry in raw.items()
    }
