"""`python -m bench [--quick] [--only NAME ...]`: every benchmark of the site in one table.

Starts what the scenarios need on 127.0.0.1 (its own PostgreSQL database: BENCH_DATABASE_URL,
else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/bench_db; gunicorn with the
production settings; the task worker; the fake Gemini, webhook and OpenAI-compatible
server), runs the scenarios, prints one table and writes it to out/bench/results.md and
out/bench/results.json. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    bench_accounts,
    bench_codegen,
    bench_latexocr,
    bench_load,
    bench_local_ocr,
    bench_review,
    bench_soak,
)
from bench.report import ERROR, INFO, OUTPUT, Row, machine, table_text, write
from bench.stack import DEFAULT_DATABASE_URL, Stack

Scenario = Callable[[Stack, bool], list[Row]]


def latex_compile(stack: Stack, quick: bool) -> list[Row]:
    """The LaTeX compile corpus (bench/bench_compile.py) as information rows; a metric's
    min/max/p10/p90 rows are folded into its median's row."""
    from bench import bench_compile

    raw_rows = bench_compile.run(quick=quick)
    spreads: dict[tuple[str, str], list[str]] = {}
    for raw in raw_rows:
        base, _, suffix = raw["metric"].rpartition("_")
        if suffix in ("min", "p10", "p90", "max"):
            spreads.setdefault((raw["engine"], base), []).append(f"{suffix} {raw['value']}")
    rows = []
    for raw in raw_rows:
        base, _, suffix = raw["metric"].rpartition("_")
        if suffix in ("min", "p10", "p90", "max"):
            continue
        value = raw["value"]
        figure = f"{raw['metric']} = {value} {raw['unit']}".strip()
        if suffix == "median" and (raw["engine"], base) in spreads:
            figure += f" ({', '.join(spreads[raw['engine'], base])})"
        rows.append(
            Row(
                scenario=f"LaTeX compile ({raw['engine']})",
                figure=figure,
                value=value if isinstance(value, int | float) else None,
                unit=raw["unit"],
                verdict=INFO,
                note=raw["note"],
            )
        )
    return rows


SCENARIOS: dict[str, Scenario] = {
    "hashers": bench_accounts.hashers,
    "class_login": bench_accounts.class_login,
    "roster": bench_accounts.roster,
    "home_under_slow_questions": bench_codegen.home_under_slow_questions,
    "codegen_overhead": bench_codegen.codegen_overhead,
    "codegen_streaming": bench_codegen.codegen_streaming,
    "ocr_ranges": bench_latexocr.ocr_ranges,
    "upload_memory": bench_latexocr.upload_memory,
    "local_ocr": bench_local_ocr.local_ocr,
    "worker_memory": bench_latexocr.worker_memory,
    "tools_under_load": bench_load.tools_under_load,
    "latex_compile": latex_compile,
    "review_recompile": bench_review.review_recompile,
    "soak": bench_soak.soak,
}
# Too long for a quick run: only when asked for by name (or in a full run).
NOT_QUICK = {"soak"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, shorter runs")
    parser.add_argument(
        "--only", nargs="+", choices=list(SCENARIOS), metavar="NAME", help="these scenarios"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=None,
        help=f"length of the soak (default {bench_soak.DEFAULT_MINUTES:g}; 6 at least)",
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="folder for results.md/.json (out/bench)"
    )
    arguments = parser.parse_args(argv)
    if arguments.list:
        print("\n".join(SCENARIOS))
        return 0

    if arguments.soak_minutes is not None:
        os.environ["BENCH_SOAK_MINUTES"] = str(arguments.soak_minutes)
    names = arguments.only or [
        name for name in SCENARIOS if not (arguments.quick and name in NOT_QUICK)
    ]
    started = time.monotonic()
    info = machine()
    info["quick"] = arguments.quick
    stack = Stack(
        database_url=os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
        or DEFAULT_DATABASE_URL,
        workdir=arguments.output / "run",
    )
    rows: list[Row] = []
    try:
        stack.prepare()
        for name in names:
            print(f"==> {name}", file=sys.stderr, flush=True)
            scenario_started = time.monotonic()
            try:
                new_rows = SCENARIOS[name](stack, arguments.quick)
            except Exception as error:
                traceback.print_exc()
                failure = f"failed: {error!r}"[:200]
                new_rows = [Row(scenario=name, figure=failure, value=None, unit="", verdict=ERROR)]
            for row in new_rows:
                if arguments.quick:
                    row.scenario += " [quick]"
                print(f"    {row.figure} [{row.verdict}]", file=sys.stderr, flush=True)
            print(f"    ({time.monotonic() - scenario_started:.0f} s)", file=sys.stderr, flush=True)
            rows += new_rows
    finally:
        stack.close()
    info["duration_s"] = round(time.monotonic() - started, 1)
    print()
    print(
        f"{info['date']} — {info['cpu']}, {info['cores']} cores, Python {info['python']}"
        + (" — quick mode" if arguments.quick else "")
        + f" — {info['duration_s']:.0f} s"
    )
    print(table_text(rows))
    markdown, as_json = write(rows, info, arguments.output)
    print(f"\nwritten: {markdown}, {as_json}")
    return 1 if any(row.verdict == ERROR for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
