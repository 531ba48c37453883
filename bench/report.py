"""The benchmark's one table: a row per figure, with what it is compared against, the goal
and the verdict; printed, and written as Markdown and JSON under out/bench/."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "out" / "bench"
PASS = "PASS"  # noqa: S105 (a verdict, not a password)
MISS = "MISS"
INFO = "INFO"
ERROR = "ERROR"


@dataclass
class Row:
    scenario: str
    figure: str
    value: float | None
    unit: str
    compared_against: str = "—"
    goal: str = "—"
    verdict: str = INFO
    note: str = ""


def verdict(passed: bool) -> str:
    return PASS if passed else MISS


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def spread(values: list[float]) -> str:
    """Median with min-max, for figures repeated a few times."""
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{statistics.median(values):.3g} (min {min(values):.3g}, max {max(values):.3g})"


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
    }


def _cells(row: Row) -> list[str]:
    return [row.scenario, row.figure, row.compared_against, row.goal, row.verdict]


HEADER = ["scenario", "figure", "compared against (same run)", "goal", "verdict"]


def table_text(rows: list[Row]) -> str:
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [min(60, max(len(line[i]) for line in lines)) for i in range(len(HEADER))]
    out = []
    for number, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if number == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def table_markdown(rows: list[Row]) -> str:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(escape(cell) for cell in _cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def notes_markdown(rows: list[Row]) -> str:
    return "\n".join(f"- **{row.scenario} — {row.figure}**: {row.note}" for row in rows if row.note)


def write(rows: list[Row], info: dict[str, Any], output: Path = OUTPUT) -> tuple[Path, Path]:
    output.mkdir(parents=True, exist_ok=True)
    header = (
        f"Benchmark run of {info['date']} on {info['cpu']} ({info['cores']} cores), "
        f"Python {info['python']}, {info['system']}; `{info['command']}`"
        + (" — quick mode: fewer repetitions, shorter runs." if info.get("quick") else ".")
        + f" Took {info.get('duration_s', 0):.0f} s."
    )
    markdown = output / "results.md"
    markdown.write_text(
        f"# Benchmark results\n\n{header}\n\n{table_markdown(rows)}\n\n"
        f"## Notes\n\n{notes_markdown(rows)}\n",
        encoding="utf-8",
    )
    as_json = output / "results.json"
    as_json.write_text(
        json.dumps({"machine": info, "rows": [asdict(row) for row in rows]}, indent=2) + "\n",
        encoding="utf-8",
    )
    return markdown, as_json
