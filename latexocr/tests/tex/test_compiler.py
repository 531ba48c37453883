"""The compile check runs a real TeX Live (installed by scripts/system-packages) and contains it."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from pypdf import PdfReader

from latexocr.tests.texlive import compile_source, needs_tex, skip_without_tex, tex_document
from latexocr.tex import compiler


def tex_processes_left() -> list[str]:
    names = {"latexmk", "pdflatex", "pdftex", "perl", "prlimit"}
    return [
        child.name() for child in psutil.Process().children(recursive=True) if child.name() in names
    ]


@pytest.mark.tex
@skip_without_tex
@pytest.mark.parametrize("engine", ["latexmk -pdf", "pdflatex"])
def test_a_good_document_compiles_into_a_pdf_with_its_page_count(
    settings: Any, engine: str
) -> None:
    settings.LATEXOCR_COMPILER = engine
    source = tex_document(
        "\\section*{Exercice 1}\nSoit $f(x) = \\frac{x^2}{2}$.\n\\newpage\n"
        "\\section*{Exercice 2}\n\\[ \\int_0^1 f(x)\\,\\mathrm{d}x \\]\n\\newpage\nFin.",
        preamble="\\usepackage{amsmath}\n",
    )

    result = compile_source(source)

    assert result.compiled, result.errors
    assert result.skipped_reason is None
    assert result.errors == []
    assert result.pdf is not None and result.pdf.startswith(b"%PDF")
    assert result.page_count == 3
    assert len(PdfReader(io.BytesIO(result.pdf)).pages) == 3
    assert result.duration_s > 0


@pytest.mark.usefixtures("latexmk")
class TestContainment:
    pytestmark = needs_tex

    def test_write18_runs_no_command(self, tmp_path: Path) -> None:
        marker = tmp_path / "pwned"
        source = tex_document(f"\\immediate\\write18{{touch {marker}}}\nBonjour")

        result = compile_source(source)

        assert result.compiled
        assert not marker.exists()

    def test_reading_etc_passwd_is_refused(self) -> None:
        result = compile_source(tex_document("\\input{/etc/passwd}"))

        assert not result.compiled
        assert result.errors[0].line == 5
        assert result.errors[0].message.startswith("Lecture interdite : /etc/passwd")
        assert "root:" not in result.log_excerpt

    def test_writing_outside_its_directory_is_refused(self, tmp_path: Path) -> None:
        target = tmp_path / "evil.txt"
        source = tex_document(
            f"\\newwrite\\out\\immediate\\openout\\out={target}\n"
            "\\immediate\\write\\out{x}\\immediate\\closeout\\out"
        )

        result = compile_source(source)

        assert not result.compiled
        assert not target.exists()
        assert result.errors[0].message.startswith("Écriture interdite")

    def test_an_endless_loop_is_stopped_by_the_time_limit_and_leaves_nothing_running(self) -> None:
        started = time.monotonic()

        result = compile_source(tex_document("\\def\\x{\\x}\\x"), timeout_s=2)

        assert time.monotonic() - started < 10
        assert not result.compiled
        assert result.errors[0].message.startswith("Compilation arrêtée au bout de 2 s")
        assert tex_processes_left() == []
        assert compile_source(tex_document("Encore là.")).compiled

    def test_an_oversize_output_is_cut_at_the_cap(self) -> None:
        flood = (
            "\\newcount\\n\\loop\\message{" + "x" * 200 + "}\\advance\\n by 1 "
            "\\ifnum\\n<10000000\\repeat"
        )

        result = compile_source(tex_document(flood), max_output_bytes=200_000)

        assert not result.compiled
        assert result.pdf is None
        assert "dépasse" in result.errors[0].message
        assert len(result.log_excerpt) <= 4000
        assert tex_processes_left() == []


@pytest.mark.tex
@skip_without_tex
@pytest.mark.usefixtures("latexmk")
def test_a_source_larger_than_the_output_cap_is_not_counted_as_output() -> None:
    padding = "%" + "x" * 99 + "\n"
    source = tex_document(padding * 3_000 + "Court.")

    result = compile_source(source, max_output_bytes=200_000)

    assert result.compiled, result.errors


def test_no_configured_engine_skips_the_check_with_a_reason(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = ""

    result = compile_source(tex_document("x"))

    assert not result.compiled
    assert result.skipped_reason == "Vérification désactivée : aucun compilateur LaTeX configuré."
    assert result.errors == [] and result.pdf is None


def test_an_engine_missing_from_the_path_skips_the_check_with_a_reason(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = "no-such-latex-engine -pdf"

    result = compile_source(tex_document("x"))

    assert not result.compiled
    assert result.skipped_reason is not None
    assert "no-such-latex-engine" in result.skipped_reason


@pytest.mark.tex
@skip_without_tex
@pytest.mark.usefixtures("latexmk")
def test_a_document_writing_files_in_a_loop_is_stopped_at_the_file_cap(settings: Any) -> None:
    settings.LATEXOCR_COMPILE_MAX_FILES = 50
    flood = (
        "\\newcount\\n\\newwrite\\f\\loop\\immediate\\openout\\f=f\\the\\n.txt "
        "\\immediate\\write\\f{x}\\immediate\\closeout\\f\\advance\\n by 1 "
        "\\ifnum\\n<100000\\repeat"
    )

    result = compile_source(tex_document(flood))

    assert not result.compiled
    assert "plus de 50 fichiers" in result.errors[0].message
    assert tex_processes_left() == []


ORPHAN_HELPER = """
import os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "platform_site.settings"
django.setup()
from django.conf import settings
settings.LATEXOCR_COMPILER = sys.argv[1]
from latexocr.tex.compiler import latex_compile
latex_compile(source=sys.argv[2], timeout_s=int(sys.argv[3]), max_output_bytes=10_000_000)
"""


def engine_processes_of(helper: psutil.Process) -> list[psutil.Process]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        engines = [
            child
            for child in helper.children(recursive=True)
            if child.name() in {"pdflatex", "pdftex"}
        ]
        if engines:
            return engines
        time.sleep(0.1)
    raise AssertionError("the engine never started")


@pytest.mark.tex
@skip_without_tex
@pytest.mark.parametrize(
    ("engine", "timeout_s", "gone_within_s"),
    [
        # The engine itself dies with its worker at once (parent-death signal).
        ("pdflatex", 600, 5),
        # Under latexmk, pdflatex is latexmk's child: its own CPU-time limit (1 + 5 s of
        # CPU) stops it; the wall-clock bound leaves room for a loaded machine.
        ("latexmk -pdf", 1, 60),
    ],
)
def test_an_endless_compile_dies_with_a_worker_killed_by_sigkill(
    engine: str, timeout_s: int, gone_within_s: int
) -> None:
    source = tex_document("\\def\\x{\\x}\\x")
    helper = subprocess.Popen(  # the worker: a process that is SIGKILLed mid-compile
        [sys.executable, "-c", ORPHAN_HELPER, engine, source, str(timeout_s)],
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        engines = engine_processes_of(psutil.Process(helper.pid))
    finally:
        helper.send_signal(signal.SIGKILL)
        helper.wait()

    _gone, alive = psutil.wait_procs(engines, timeout=gone_within_s)

    for process in alive:
        process.kill()
    assert alive == []


def test_a_killed_engines_whole_group_is_gone_before_its_directory_is_removed(
    tmp_path: Path,
) -> None:
    # A child that keeps writing after its parent is killed, as pdflatex under latexmk.
    script = "(while true; do echo x >> out.txt; sleep 0.01; done) & wait"
    with (tmp_path / "terminal.txt").open("wb") as terminal:
        _, stop = compiler._run_contained(
            ["sh", "-c", script],
            cwd=tmp_path,
            environment={"PATH": os.environ["PATH"]},
            output=terminal,
            timeout_s=1,
            max_output_bytes=10_000_000,
        )

    assert stop == "timeout"
    size = (tmp_path / "out.txt").stat().st_size
    time.sleep(0.2)
    assert (tmp_path / "out.txt").stat().st_size == size  # nobody writes any more
    shutil.rmtree(tmp_path)


def test_the_directories_a_killed_worker_left_are_swept_and_live_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left = tmp_path / f"{compiler.COMPILE_DIR_PREFIX}dead"
    (left / "work").mkdir(parents=True)
    (left / "work" / "document.tex").write_text("x")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    live = tmp_path / f"{compiler.COMPILE_DIR_PREFIX}live"
    live.mkdir()
    unrelated = tmp_path / "other"
    unrelated.mkdir()
    os.utime(unrelated, (time.time() - 3600, time.time() - 3600))

    assert compiler.compile_dirs_sweep(older_than_s=125) == 1

    assert not left.exists()
    assert live.exists() and unrelated.exists()
