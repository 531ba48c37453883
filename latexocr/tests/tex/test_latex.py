from __future__ import annotations

import pytest

from latexocr.engines.text_layer import TextBlock
from latexocr.tex.latex import (
    LocalPage,
    document_languages,
    latex_from_local_pages,
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


def test_a_local_document_has_headings_paragraphs_and_one_page_per_page() -> None:
    latex = latex_from_local_pages(
        [
            LocalPage(
                blocks=[
                    TextBlock("section", "Exercice 1"),
                    TextBlock("paragraph", "Premier paragraphe : 100%"),
                    TextBlock("paragraph", "Second paragraphe"),
                ]
            ),
            LocalPage(blocks=[], note="page non lue"),
            LocalPage(blocks=[TextBlock("subsection", "Fin")]),
        ]
    )

    assert latex.startswith("\\documentclass")
    body = latex.split("\\begin{document}")[1]
    assert "\\section*{Exercice 1}\n\nPremier paragraphe : 100\\%\n\nSecond paragraphe" in body
    assert body.count("\\newpage") == 2
    assert "% Page 2\n% page non lue\n\\mbox{}" in body  # the empty page still is a page
    assert "\\subsection*{Fin}" in body


@pytest.mark.parametrize(
    ("text", "languages"),
    [
        ("Soit f une fonction continue sur le segment et dérivable sur l’intervalle.", ["french"]),
        ("Let f be a function that is continuous on the interval and the segment.", ["english"]),
        (
            "Le théorème est démontré dans le cours et il est utile pour les exercices. "
            "The theorem is proved in the lecture and it is used in the exercises of the book.",
            ["french", "english"],  # both; English, a little more frequent, is the main one
        ),
        ("x + y = 3", ["french"]),
    ],
)
def test_the_documents_language_decides_babel(text: str, languages: list[str]) -> None:
    assert document_languages(text) == languages
