"""Helpers for the tests that compile with a real TeX Live (marker `tex`)."""

from __future__ import annotations

import shutil

import pytest

from latexocr.tex.compiler import CompileResult, latex_compile

skip_without_tex = pytest.mark.skipif(
    shutil.which("latexmk") is None or shutil.which("pdflatex") is None,
    reason="TeX Live is not installed (scripts/system-packages installs it as root)",
)
needs_tex = [pytest.mark.tex, skip_without_tex]


def tex_document(body: str, preamble: str = "") -> str:
    return (
        "\\documentclass[11pt,a4paper]{article}\n"
        "\\usepackage[T1]{fontenc}\n"
        "\\usepackage[french]{babel}\n"
        f"{preamble}"
        "\\begin{document}\n"
        f"{body}\n"
        "\\end{document}\n"
    )


# The mistake models make most: a command whose package the preamble forgot (line 5).
BROKEN_DOCUMENT = tex_document("Soit $x \\in \\mathbb{R}$.")
REPAIRED_DOCUMENT = tex_document("Soit $x \\in \\mathbb{R}$.", preamble="\\usepackage{amssymb}\n")


MAX_OUTPUT_BYTES = 20_000_000


def compile_source(
    source: str, *, timeout_s: int = 30, max_output_bytes: int = MAX_OUTPUT_BYTES
) -> CompileResult:
    return latex_compile(source=source, timeout_s=timeout_s, max_output_bytes=max_output_bytes)
