from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from latexocr.engines.text_layer import (
    body_font_size,
    lines_join,
    page_blocks,
    page_lines,
    repeated_lines,
    strip_page_furniture,
    text_clean,
)
from tests.pdfs import pdf_with_lines


@pytest.mark.parametrize(
    ("broken", "clean"),
    [
        ("Pr´eface", "Préface"),
        ("co^ut", "coût"),
        ("con¸cu", "conçu"),
        ("bo^ıte", "boîte"),
        ("caract`ere `a", "caractère à"),
        ("na¨ıf No¨el", "naïf Noël"),
        ("ˆetre", "être"),
        ("fran\u00e7ais", "français"),
        ("e\u0301te\u0301", "été"),  # combining marks after the letter
        ("ﬁn ﬂeur eﬀet", "fin fleur effet"),
    ],
)
def test_text_clean_recombines_accents_and_splits_ligatures(broken: str, clean: str) -> None:
    assert text_clean(broken) == clean


def test_ascii_carets_and_backquotes_of_code_are_left_alone() -> None:
    assert text_clean("base^exp et x^2", ascii_accents=False) == "base^exp et x^2"
    assert text_clean("x^2 et (a)^b") == "x^2 et (a)^b"


def test_a_word_cut_at_a_line_end_is_joined() -> None:
    assert lines_join(["un ensemble partiel-", "lement ordonné"]) == (
        "un ensemble partiellement ordonné"
    )


def test_a_compound_split_at_a_line_end_keeps_its_hyphen() -> None:
    assert lines_join(["Jean-", "Pierre vient"]) == "Jean-Pierre vient"


def _lines(pdf: bytes) -> list:
    return page_lines(PdfReader(io.BytesIO(pdf)).pages[0])


def test_larger_type_becomes_a_heading_and_a_vertical_gap_a_new_paragraph() -> None:
    lines = _lines(
        pdf_with_lines(
            [
                ("Chapitre premier", 18, 72, 760),
                ("Une premi\u00e8re ligne assez longue pour un paragraphe ordinaire", 10, 72, 730),
                ("et la suite du m\u00eame paragraphe sur une seconde ligne.", 10, 72, 718),
                ("Un nouveau paragraphe apr\u00e8s un grand blanc, lui aussi long", 10, 72, 690),
                ("et termin\u00e9 ici, sur sa deuxi\u00e8me ligne de texte.", 10, 72, 678),
            ]
        )
    )
    blocks = page_blocks(lines, body_size=body_font_size([lines]))

    assert [block.kind for block in blocks] == ["section", "paragraph", "paragraph"]
    assert blocks[0].text == "Chapitre premier"
    assert blocks[1].text.startswith("Une première ligne") and "seconde ligne." in blocks[1].text
    assert blocks[2].text.startswith("Un nouveau paragraphe")


def test_a_numbered_title_in_body_type_becomes_a_subsection() -> None:
    lines = _lines(
        pdf_with_lines(
            [
                ("Exercice 2", 10, 72, 760),
                (
                    "Soit f une fonction continue sur un segment ferm\u00e9 et born\u00e9.",
                    10,
                    72,
                    740,
                ),
            ]
        )
    )
    blocks = page_blocks(lines, body_size=10)
    assert (blocks[0].kind, blocks[0].text) == ("subsection", "Exercice 2")


def test_an_indented_line_starts_a_new_paragraph() -> None:
    lines = _lines(
        pdf_with_lines(
            [
                ("Premier paragraphe dont la ligne est pleine jusqu\u2019au bout ici", 10, 72, 760),
                (
                    "Second paragraphe, en retrait comme le fait TeX, de longueur pleine",
                    10,
                    87,
                    748,
                ),
                (
                    "qui continue sans retrait jusqu\u2019\u00e0 la fin de sa ligne enti\u00e8re.",
                    10,
                    72,
                    736,
                ),
            ]
        )
    )
    blocks = page_blocks(lines, body_size=10)
    assert len(blocks) == 2
    assert blocks[1].text.startswith("Second paragraphe")


def test_running_heads_and_page_numbers_are_dropped() -> None:
    pages = [
        _lines(
            pdf_with_lines(
                [
                    (f"Chapitre 3 : Int\u00e9grales {number}", 10, 72, 800),
                    (f"Le texte propre \u00e0 la page num\u00e9ro {number}.", 10, 72, 700),
                    (str(number), 10, 300, 50),
                ]
            )
        )
        for number in (10, 11, 12, 13)
    ]
    repeated = repeated_lines(pages)
    kept = strip_page_furniture(pages[0], repeated)
    assert [line.text.strip() for line in kept] == ["Le texte propre à la page numéro 10."]
