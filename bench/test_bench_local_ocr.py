"""The local OCR benchmark's own measures (no Tesseract, no database)."""

from __future__ import annotations

from bench.bench_local_ocr import edit_distance, latex_words, normalise


def test_the_edit_distance_counts_insertions_deletions_and_substitutions() -> None:
    assert edit_distance("chat", "chats") == 1
    assert edit_distance("chat", "hat") == 1
    assert edit_distance("chat", "chut") == 1
    assert edit_distance(["un", "deux", "trois"], ["un", "trois"]) == 1
    assert edit_distance("", "abc") == 3


def test_the_latex_of_a_page_is_compared_as_plain_words() -> None:
    latex = (
        "% Page 1\n% lecture peu sûre\n\\subsection*{Exercice 1}\n\n"
        "Soit x \\ensuremath{\\leq} 3, 50\\% de x\\_1 et 10\\textsuperscript{5} \\texteuro{}"
    )
    assert latex_words(latex) == [
        "Exercice",
        "1",
        "Soit",
        "x",
        "≤",
        "3,",
        "50%",
        "de",
        "x_1",
        "et",
        "105",
        "€",
    ]


def test_quotes_and_dashes_are_normalised_on_both_sides() -> None:
    assert normalise("l’élève —  « oui »") == 'l\'élève - " oui "'
