from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from latexocr.engines.text_layer import TextBlock
from latexocr.engines.unicode_latex import TYPESET_AS_IS, UNICODE_TO_LATEX, unicode_to_latex
from latexocr.tests.texlive import skip_without_tex
from latexocr.tex.latex import LocalPage, latex_escape, latex_from_local_pages


@pytest.mark.parametrize(
    ("char", "latex"),
    [
        ("≥", r"\ensuremath{\geq}"),
        ("≤", r"\ensuremath{\leq}"),
        ("≠", r"\ensuremath{\neq}"),
        ("∈", r"\ensuremath{\in}"),
        ("→", r"\ensuremath{\rightarrow}"),
        ("µ", r"\ensuremath{\mu}"),
        ("Ω", r"\ensuremath{\Omega}"),
        ("ℝ", r"\ensuremath{\mathbb{R}}"),
        ("₂", r"\textsubscript{2}"),
        ("⁵", r"\textsuperscript{5}"),
        ("°", "°"),
        ("é", "é"),
        ("ł", "ł"),
    ],
)
def test_characters_are_mapped_to_what_pdflatex_typesets(char: str, latex: str) -> None:
    assert unicode_to_latex(char) == latex


def test_an_unknown_character_is_shown_by_its_code_point_never_as_a_question_mark() -> None:
    assert latex_escape("a\x07b 漢") == r"ab \texttt{[U+6F22]}"


def test_a_compatibility_character_is_decomposed_and_escaped() -> None:
    assert unicode_to_latex("﹛") == r"\{"  # SMALL LEFT CURLY BRACKET
    assert unicode_to_latex("ｘ") == "x"  # FULLWIDTH LATIN SMALL LETTER X


def test_latex_specials_are_escaped() -> None:
    assert latex_escape(r"50% de 10$ & #1 a_b {x} ~ ^ \ fin") == (
        r"50\% de 10\$ \& \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} fin"
    )


def _every_character() -> str:
    latin = "".join(chr(code) for code in range(0xA0, 0x100))
    return latin + "".join(sorted(TYPESET_AS_IS)) + "".join(UNICODE_TO_LATEX) + "漢𝔸"


@pytest.mark.tex
@skip_without_tex
@pytest.mark.parametrize("babel", ["french", "english"])
def test_every_mapped_character_compiles_with_pdflatex(tmp_path: Path, babel: str) -> None:
    text = _every_character()
    if babel == "english":
        text = "The theorem is proved and the result is shown in the table. " + text
    latex = latex_from_local_pages([LocalPage(blocks=[TextBlock("paragraph", text)])])
    assert f"[{babel}]{{babel}}" in latex
    (tmp_path / "all.tex").write_text(latex, encoding="utf-8")

    compiled = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "all.tex"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
        check=False,
    )

    log = (tmp_path / "all.log").read_text(errors="replace")
    errors = [line for line in log.splitlines() if line.startswith("!")]
    assert compiled.returncode == 0, errors
    assert "?" not in latex.split("\\begin{document}")[1]
