from __future__ import annotations

import time

import pytest

from latexocr.latex import (
    latex_escape,
    latex_from_text_pages,
    latex_merge,
    latex_strip_fences,
)

DOCUMENT = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
\section{Exercice 1}
$x^2$
\end{document}"""


def test_code_fences_around_an_answer_are_stripped() -> None:
    assert latex_strip_fences(f"```latex\n{DOCUMENT}\n```") == DOCUMENT


def test_chatter_around_the_fenced_document_is_dropped() -> None:
    answer = f"Voici le document demandé :\n\n```latex\n{DOCUMENT}\n```\n\nBonne journée !"

    assert latex_strip_fences(answer) == DOCUMENT


def test_text_outside_the_document_is_dropped_even_without_fences() -> None:
    assert latex_strip_fences(f"Voici :\n{DOCUMENT}\nFin.") == DOCUMENT


def test_an_answer_without_fences_is_kept_as_is() -> None:
    assert latex_strip_fences(DOCUMENT) == DOCUMENT


def test_one_complete_answer_is_returned_unchanged() -> None:
    assert latex_merge([f"```\n{DOCUMENT}\n```"]) == DOCUMENT + "\n"


def test_merge_keeps_one_preamble_with_the_union_of_packages_and_bodies_in_order() -> None:
    first = r"""\documentclass[12pt]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{hyperref}
\title{TD 1}
\begin{document}
\maketitle
\section{Partie A}
\end{document}"""
    second = r"""\documentclass{report}
\usepackage{inputenc}
\usepackage{amsmath}
\usepackage{tikz}
\title{TD 1}
\begin{document}
\maketitle
\section{Partie B}
\end{document}"""

    merged = latex_merge([first, f"```latex\n{second}\n```"])

    assert merged.startswith("\\documentclass[12pt]{article}\n")
    assert merged.count("\\documentclass") == 1
    assert merged.count("\\begin{document}") == 1
    assert merged.count("\\end{document}") == 1
    assert "\\usepackage[utf8]{inputenc}" in merged
    assert merged.count("{inputenc}") == 1
    assert merged.count("\\usepackage{amsmath}") == 1
    assert "\\usepackage{amssymb}" in merged
    assert "\\usepackage{tikz}" in merged
    # hyperref is loaded after every other package, even one only a later range needed.
    assert merged.index("{tikz}") < merged.index("{hyperref}")
    assert merged.count("\\title{TD 1}") == 1
    assert merged.count("\\maketitle") == 1
    assert merged.index("Partie A") < merged.index("Partie B")
    assert "```" not in merged


def test_a_command_defined_in_two_ranges_is_defined_once() -> None:
    first = (
        "\\documentclass{article}\n\\newcommand{\\R}{\\mathbb{R}}\n"
        "\\begin{document}\nA\n\\end{document}"
    )
    second = (
        "\\documentclass{article}\n\\newcommand{\\R}\n  {\\mathbf{R}}\n"
        "\\newtheorem{thm}{Théorème}\n\\begin{document}\nB\n\\end{document}"
    )

    merged = latex_merge([first, second])

    assert merged.count("\\newcommand{\\R}") == 1
    assert "\\mathbf{R}" not in merged
    assert "\\newtheorem{thm}{Théorème}" in merged


def test_bare_bodies_get_a_default_preamble() -> None:
    merged = latex_merge(["\\section{Un}\n$a$", "\\section{Deux}\n$b$"])

    assert merged.startswith("\\documentclass")
    assert "\\usepackage{amsmath}" in merged
    assert "\\usepackage[french]{babel}" in merged
    assert merged.index("\\section{Un}") < merged.index("\\section{Deux}")
    assert merged.rstrip().endswith("\\end{document}")


def test_latex_specials_are_escaped() -> None:
    assert latex_escape(r"50% de 10$ & #1 a_b {x} ~ ^ \ fin") == (
        r"50\% de 10\$ \& \#1 a\_b \{x\} \textasciitilde{} \textasciicircum{} "
        r"\textbackslash{} fin"
    )


def test_french_text_is_kept_and_math_symbols_become_latex() -> None:
    assert latex_escape("Élève : x ≤ 3 → ﬁn") == (
        r"Élève : x \ensuremath{\leq} 3 \ensuremath{\rightarrow} fin"
    )


def test_characters_pdflatex_cannot_typeset_are_replaced() -> None:
    assert latex_escape("a\x07b 漢") == "ab ?"


def test_a_document_from_text_pages_keeps_paragraphs_and_page_breaks() -> None:
    latex = latex_from_text_pages(["Titre\n\nPremier paragraphe\nsuite", "", "Fin : 100%"])

    assert latex.startswith("\\documentclass")
    body = latex.split("\\begin{document}")[1]
    assert "Titre\n\nPremier paragraphe\nsuite" in body
    assert body.count("\\newpage") == 2
    assert "\\mbox{}" in body  # the empty page still is a page
    assert "Fin : 100\\%" in body
    assert body.index("Titre") < body.index("Fin")


HOSTILE_ANSWERS = {
    "blanks after a fence": "```" + " " * 1_000_000 + "x",
    "fences never closed": "```latex\n" + "x\n" * 500_000,
    "backticks": "`" * 1_000_000,
    "openings": "```tex\n" * 140_000,
    "arguments on their own lines": "\\documentclass{article}\n"
    + "{}\n" * 330_000
    + "\\begin{document}x\\end{document}",
    "blanks in a usepackage": "\\usepackage" + " " * 1_000_000 + "x\n\\begin{document}x",
    "blanks in a definition": "\\newcommand" + " " * 1_000_000 + "x\n\\begin{document}x",
}


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS.values(), ids=HOSTILE_ANSWERS.keys())
def test_a_hostile_megabyte_of_answer_is_cleaned_and_merged_in_under_a_second(
    answer: str,
) -> None:
    half = answer[: len(answer) // 2]
    started = time.process_time()

    latex_strip_fences(answer)
    latex_merge([half, answer[len(half) :]])

    assert time.process_time() - started < 1.0
