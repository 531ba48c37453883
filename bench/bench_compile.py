"""Benchmark of the LaTeX compile check over documents like those Gemini returns for exam sheets.

Measures, with the real TeX Live and `latexocr.tex.compiler.latex_compile`:
- the share of the corpus (bench/tex_corpus/*.tex) that compiles first time;
- the share that compiles after the one repair round: the document and its errors go through
  the real Gemini wrapper to the fake Gemini (platform_site/llm/tests/fakes/gemini.py), scripted
  to answer with the corrected version stored beside the document (`<name>.fixed.tex`, wrapped in a
  ```latex fence as models often do); a failing document without one gets its own text
  back, i.e. a repair that did not help;
- the compile time per page (median and spread over the corpus), and the time to fail.

Run: `.venv/bin/python -m bench.bench_compile [--quick]`. `run(quick=...)` returns the rows
for a harness gathering every benchmark. Quick: one run per document with the configured
engine (latexmk by default); full: the median of three runs, for latexmk and pdflatex.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from latexocr.tex.errors import CompileError

CORPUS = Path(__file__).resolve().parent / "tex_corpus"
FIXED_SUFFIX = ".fixed.tex"
DEFAULT_ENGINE = "latexmk -pdf"
TIMEOUT_S = 60
MAX_OUTPUT_BYTES = 50 * 1024 * 1024
GEMINI_TIMEOUT_S = 30
BENCHMARK = "latex_compile"


@dataclass(frozen=True)
class Measure:
    name: str
    compiled: bool
    seconds: float
    pages: int | None
    errors: list[CompileError]


def corpus_documents() -> list[Path]:
    return sorted(path for path in CORPUS.glob("*.tex") if not path.name.endswith(FIXED_SUFFIX))


def fixed_version(document: Path) -> Path:
    return document.with_name(document.name.removesuffix(".tex") + FIXED_SUFFIX)


def _setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")
        django.setup()


def _measure(source: str, name: str, repetitions: int) -> Measure:
    from latexocr.tex.compiler import latex_compile

    results = [
        latex_compile(source=source, timeout_s=TIMEOUT_S, max_output_bytes=MAX_OUTPUT_BYTES)
        for _ in range(repetitions)
    ]
    first = results[0]
    if first.skipped_reason:
        raise RuntimeError(first.skipped_reason)
    return Measure(
        name=name,
        compiled=first.compiled,
        seconds=statistics.median(result.duration_s for result in results),
        pages=first.page_count,
        errors=first.errors,
    )


def _repair_round(documents: list[Path], failures: list[Measure]) -> list[Measure]:
    """One repair round per failing document, through the Gemini wrapper and the fake Gemini."""
    from django.conf import settings
    from django.test import override_settings

    from latexocr.tex.checking import repair_prompt
    from latexocr.tex.compiler import latex_compile
    from latexocr.tex.latex import latex_strip_fences
    from platform_site.llm.gemini import generate
    from platform_site.llm.registry import gemini_connection
    from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply

    by_name = {document.name: document for document in documents}
    fake = FakeGemini()
    fake.start()
    repaired = []
    try:
        with override_settings(GEMINI_API_KEY="fake-gemini-key", GEMINI_BASE_URL=fake.url):
            for failure in failures:
                document = by_name[failure.name]
                source = document.read_text(encoding="utf-8")
                fixed = fixed_version(document)
                answer = fixed.read_text(encoding="utf-8") if fixed.exists() else source
                fake.queue(Reply(text=f"```latex\n{answer}```\n"))
                started = time.monotonic()
                reply = generate(
                    connection=gemini_connection(),
                    model=settings.LATEXOCR_GEMINI_MODEL,
                    prompt=repair_prompt(source=source, errors=failure.errors),
                    timeout_s=GEMINI_TIMEOUT_S,
                )
                second = latex_compile(
                    source=latex_strip_fences(reply.text),
                    timeout_s=TIMEOUT_S,
                    max_output_bytes=MAX_OUTPUT_BYTES,
                )
                repaired.append(
                    Measure(
                        name=failure.name,
                        compiled=second.compiled,
                        seconds=time.monotonic() - started,
                        pages=second.page_count,
                        errors=second.errors,
                    )
                )
    finally:
        fake.stop()
    return repaired


def _fake_gemini_available() -> bool:
    return (Path(__file__).resolve().parent.parent / "tests" / "fakes" / "gemini.py").exists()


def _row(engine: str, metric: str, value: Any, unit: str, note: str = "") -> dict[str, Any]:
    return {
        "benchmark": BENCHMARK,
        "engine": engine,
        "metric": metric,
        "value": value,
        "unit": unit,
        "note": note,
    }


def _spread(engine: str, metric: str, values: list[float], note: str) -> list[dict[str, Any]]:
    if not values:
        return []
    rows = [
        _row(engine, f"{metric}_median", round(statistics.median(values), 3), "s", note),
        _row(engine, f"{metric}_min", round(min(values), 3), "s", note),
        _row(engine, f"{metric}_max", round(max(values), 3), "s", note),
    ]
    if len(values) >= 2:
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        rows += [
            _row(engine, f"{metric}_p10", round(deciles[0], 3), "s", note),
            _row(engine, f"{metric}_p90", round(deciles[-1], 3), "s", note),
        ]
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    _setup_django()
    from django.conf import settings
    from django.test import override_settings

    configured = settings.LATEXOCR_COMPILER or DEFAULT_ENGINE
    engines = [configured] if quick else list(dict.fromkeys([configured, "pdflatex"]))
    repetitions = 1 if quick else 3
    documents = corpus_documents()
    rows: list[dict[str, Any]] = []
    for position, engine in enumerate(engines):
        if shutil.which(engine.split()[0]) is None:
            rows.append(_row(engine, "skipped", 0, "", f"{engine.split()[0]} is not installed"))
            continue
        with override_settings(LATEXOCR_COMPILER=engine):
            measures = [
                _measure(document.read_text(encoding="utf-8"), document.name, repetitions)
                for document in documents
            ]
            compiled = [measure for measure in measures if measure.compiled]
            failures = [measure for measure in measures if not measure.compiled]
            rows.append(_row(engine, "documents", len(measures), "documents"))
            rows.append(
                _row(
                    engine,
                    "compiled_first_time_share",
                    round(100 * len(compiled) / len(measures), 1),
                    "%",
                    f"{len(compiled)}/{len(measures)}",
                )
            )
            pages = sum(measure.pages or 0 for measure in compiled)
            rows += _spread(
                engine,
                "seconds_per_page",
                [measure.seconds / measure.pages for measure in compiled if measure.pages],
                f"{len(compiled)} documents, {pages} pages, median of {repetitions} run(s)",
            )
            rows += _spread(
                engine,
                "seconds_to_fail",
                [measure.seconds for measure in failures],
                f"{len(failures)} failing documents",
            )
            # The repair round is measured once, with the configured engine.
            if position == 0:
                rows += _repair_rows(engine, documents, measures, failures)
    return rows


def _repair_rows(
    engine: str, documents: list[Path], measures: list[Measure], failures: list[Measure]
) -> list[dict[str, Any]]:
    compiled_first = len(measures) - len(failures)
    if not _fake_gemini_available():
        return [_row(engine, "compiled_after_repair_share", "pending", "%", "no fake Gemini")]
    repaired = _repair_round(documents, failures)
    succeeded = compiled_first + sum(measure.compiled for measure in repaired)
    return [
        _row(
            engine,
            "compiled_after_repair_share",
            round(100 * succeeded / len(measures), 1),
            "%",
            f"{succeeded}/{len(measures)}; repair answers scripted from *.fixed.tex",
        ),
        *_spread(
            engine,
            "repair_round_seconds",
            [measure.seconds for measure in repaired],
            "fake Gemini answers at once: this is the wrapper plus the second compile",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one run, configured engine only")
    arguments = parser.parse_args()
    for row in run(quick=arguments.quick):
        print(
            f"{row['engine']:14} {row['metric']:32} {row['value']!s:>8} {row['unit']:9} "
            f"{row['note']}"
        )


if __name__ == "__main__":
    main()
