"""The soak: mixed load for a long while (30 minutes by default) against one web process and
one task worker with the production settings; memory of both over time (plotted), 5xx count,
p95 per endpoint, and the growth of memory from minute 5 to the end."""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from pathlib import Path

import psutil

from bench.load import locust_run
from bench.report import Row, percentile, verdict
from bench.stack import Stack, tree_pss, users_create

DEFAULT_MINUTES = 30.0
USERS = 20
GROWTH_GOAL = 0.05
SAMPLE_EVERY_S = 5.0
PLOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "soak-memory.png"


def soak_minutes() -> float:
    """BENCH_SOAK_MINUTES (`python -m bench --soak-minutes N` sets it), else 30."""
    return float(os.environ.get("BENCH_SOAK_MINUTES") or DEFAULT_MINUTES)


class _Recorder:
    """(seconds since start, web PSS, worker PSS) every SAMPLE_EVERY_S, from a thread."""

    def __init__(self, web: psutil.Process, worker: psutil.Process) -> None:
        self.web, self.worker = web, worker
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            elapsed = time.monotonic() - self._started
            self.samples.append((elapsed, tree_pss(self.web), tree_pss(self.worker)))
            self._stop.wait(SAMPLE_EVERY_S)

    def __enter__(self) -> _Recorder:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _median_around(samples: list[tuple[float, int]], minute: float) -> float:
    """Median of the samples within the minute ending at `minute` (from minute - 1 to minute).

    The median, not the mean: the worker's tree includes latexmk and pdflatex while a compile
    check runs (+40 MiB for a second or two); one such sample more in the last minute moved
    the mean by 4 %, though nothing stayed. The median follows what the processes keep.
    """
    window = [value for at, value in samples if minute - 1 <= at / 60 <= minute]
    if not window:
        raise RuntimeError(f"no memory sample around minute {minute:g}")
    return statistics.median(window)


def _samples_write(samples: list[tuple[float, int, int]], output: Path) -> Path:
    """The raw samples as CSV, so that the growth can be recomputed another way."""
    output.parent.mkdir(parents=True, exist_ok=True)
    lines = ["seconds,web_pss_bytes,worker_pss_bytes"]
    lines += [f"{at:.1f},{web},{worker}" for at, web, worker in samples]
    output.write_text("\n".join(lines) + "\n")
    return output


def _plot(samples: list[tuple[float, int, int]], minutes: float, output: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    mib = 1024 * 1024
    at = [s[0] / 60 for s in samples]
    figure, axes = plt.subplots(figsize=(7, 3.2), dpi=110)
    axes.plot(at, [s[1] / mib for s in samples], label="web (gunicorn, 1 uvicorn worker)")
    axes.plot(at, [s[2] / mib for s in samples], label="task worker (db_worker + TeX)")
    axes.axvline(min(5, minutes), color="grey", linestyle=":", linewidth=1)
    axes.set_xlabel("minutes")
    axes.set_ylabel("PSS (MiB)")
    axes.set_ylim(bottom=0)
    axes.set_title(f"Soak: {minutes:g} min of mixed load, {USERS} users")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output)
    plt.close(figure)
    return output


def soak(stack: Stack, quick: bool) -> list[Row]:
    minutes = soak_minutes()
    if minutes < 6:
        raise RuntimeError("the soak needs 6 minutes at least (growth is measured from minute 5)")
    names = users_create(prefix="bench-soak", count=USERS)
    compiler = "latexmk -pdf" if shutil.which("latexmk") else ""
    env = {
        **stack.backends_env(),
        "CODEGEN_WEBHOOK_URL": stack.fake_webhook(delay_s=0.5),
        "LATEXOCR_COMPILER": compiler,
        # The daily quotas would turn most of a long run into 429s: the soak runs the full path.
        "CODEGEN_DAILY_QUOTA": "0",
        "LATEXOCR_DAILY_QUOTA": "0",
    }
    with (
        stack.task_worker(env=env) as worker,
        stack.site("gunicorn-soak", workers=1, env=env) as site,
    ):
        web = psutil.Process(site.processes[0].popen.pid)
        worker_process = psutil.Process(worker.processes[0].popen.pid)
        with _Recorder(web, worker_process) as recorder:
            results = locust_run(
                locustfile="soak.py",
                host=site.base_url,
                users=USERS,
                spawn_rate=USERS / 10,
                run_time_s=int(minutes * 60),
                workdir=stack.workdir,
                env={"BENCH_USERNAMES": ",".join(names)},
            )
    samples = recorder.samples
    web_samples = [(at, pss) for at, pss, _ in samples]
    worker_samples = [(at, pss) for at, _, pss in samples]
    end = min(minutes, samples[-1][0] / 60)
    growths = {}
    for label, series in (("web", web_samples), ("worker", worker_samples)):
        start, last = _median_around(series, 5), _median_around(series, end)
        growths[label] = (start, last, (last - start) / start)
    _samples_write(samples, stack.workdir.parent / "soak-samples.csv")
    plot = _plot(samples, minutes, stack.workdir.parent / "soak-memory.png")
    if plot is not None and not quick:
        PLOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plot, PLOT)
    mib = 1024 * 1024
    server_errors = unanswered = total = 0
    p95s = []
    for name, requests in sorted(results.items()):
        total += len(requests.statuses)
        server_errors += sum(status >= 500 for status in requests.statuses)
        unanswered += sum(status == 0 for status in requests.statuses)
        p95s.append(
            f"{name} {percentile(requests.times_ms, 95):.0f} ms (n={len(requests.times_ms)})"
        )
    peak_web = max(pss for _, pss in web_samples) / mib
    peak_worker = max(pss for _, pss in worker_samples) / mib
    growth_text = "; ".join(
        f"{label} {start / mib:.0f} → {last / mib:.0f} MiB ({growth * 100:+.1f} %)"
        for label, (start, last, growth) in growths.items()
    )
    passed = (
        server_errors == 0
        and unanswered == 0
        and all(growth < GROWTH_GOAL for _, _, growth in growths.values())
    )
    return [
        Row(
            scenario=f"soak: {minutes:g} min of mixed load, 1 web process + 1 worker",
            figure=(
                f"{total} requests, {server_errors} 5xx, {unanswered} unanswered; memory from "
                f"minute 5 to minute {end:.0f}: {growth_text}"
            ),
            value=round(max(growth for _, _, growth in growths.values()) * 100, 2),
            unit="% growth",
            compared_against=f"peak web {peak_web:.0f} MiB, peak worker {peak_worker:.0f} MiB",
            goal=f"0 5xx, every request answered, growth < {GROWTH_GOAL * 100:.0f} %",
            verdict=verdict(passed),
            note=(
                f"locust (bench/locustfiles/soak.py), {USERS} students with 1-3 s pauses: "
                "questions through the fake webhook (0.5 s), history pages, /home/, an upload of "
                "a one-page PDF now and then (converted by the task worker through the fake "
                f"Gemini, compile check {compiler or 'off: latexmk missing'}), log out and in "
                f"again. Production settings except the daily quotas (off, so that a long run "
                f"exercises the full path); gunicorn.conf.py with GUNICORN_WORKERS=1. PSS of "
                f"each process tree every {SAMPLE_EVERY_S:g} s (raw samples: soak-samples.csv "
                "beside the results); growth = median of the last minute against the median "
                "of minute 5. p95 per endpoint: "
                + "; ".join(p95s)
                + (f". Plot: {PLOT.name} (docs/img/)." if plot is not None else ".")
            ),
        )
    ]
