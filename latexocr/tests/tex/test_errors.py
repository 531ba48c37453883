"""A TeX log read into plain French errors on the right source lines (real TeX Live, and logs)."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from django.utils import translation

from latexocr.tests.texlive import compile_source, needs_tex, tex_document
from latexocr.tex.errors import CompileError, errors_shown, log_errors


def shown(errors: list[CompileError]) -> list[tuple[int | None, str]]:
    return [(error.line, error.message) for error in errors]


@pytest.mark.usefixtures("latexmk")
class TestBrokenDocuments:
    pytestmark = needs_tex

    def test_an_undefined_control_sequence_fails_with_its_line_and_command(self) -> None:
        source = tex_document("Bonjour\n\\fooo{x} et la suite")

        result = compile_source(source)

        assert not result.compiled
        assert result.pdf is None and result.page_count is None
        assert result.skipped_reason is None
        first = result.errors[0]
        assert first.line == 6
        assert first.message.startswith("Commande inconnue : \\fooo")
        assert "Undefined control sequence" in result.log_excerpt

    def test_a_missing_end_document_fails_saying_so_at_the_last_line(self) -> None:
        source = "\\documentclass{article}\n\\begin{document}\nBonjour\n"

        result = compile_source(source)

        assert not result.compiled
        assert shown(result.errors) == [(3, "Le document se termine sans \\end{document}.")]

    def test_mathbb_without_amssymb_names_the_missing_package(self) -> None:
        result = compile_source(tex_document("$x \\in \\mathbb{R}$"))

        assert not result.compiled
        assert result.errors[0].line == 5
        assert "\\usepackage{amssymb}" in result.errors[0].message

    def test_an_unknown_package_is_reported_on_its_usepackage_line(self) -> None:
        result = compile_source(tex_document("x", preamble="\\usepackage{siunitxx}\n"))

        assert not result.compiled
        assert shown(result.errors) == [
            (4, "Fichier introuvable : siunitxx.sty (paquet non installé ou nom mal écrit).")
        ]

    def test_an_unclosed_brace_is_found_on_the_line_where_the_argument_starts(self) -> None:
        source = tex_document("Calculer\n\\[ \\lim_{x \\to 1} \\frac{\\sqrt{x^2+1}{x+2} \\]\nFin.")

        result = compile_source(source)

        assert not result.compiled
        assert result.errors[0].line == 6
        assert result.errors[0].message == "Accolade non fermée dans l’argument de \\frac."

    def test_an_ampersand_outside_a_table_is_explained(self) -> None:
        result = compile_source(tex_document("Questions 1 & 2"))

        assert not result.compiled
        assert result.errors[0].line == 5
        assert "hors d’un tableau" in result.errors[0].message


def test_an_error_after_a_missing_file_is_not_reported_twice() -> None:
    log = (
        "! LaTeX Error: File `tikzz.sty' not found.\n\n"
        "Type X to quit or <RETURN> to proceed,\n\n"
        "! Emergency stop.\n<read *> \n         \nl.3 \\begin\n          {document}\n"
        "!  ==> Fatal error occurred, no output PDF file produced!\n"
    )
    source = "\\documentclass{article}\n\\usepackage{tikzz}\n\\begin{document}\n"

    errors = log_errors(log=log, source=source)

    assert shown(errors) == [
        (2, "Fichier introuvable : tikzz.sty (paquet non installé ou nom mal écrit).")
    ]


def test_an_unknown_tex_message_is_kept_verbatim() -> None:
    log = "! Something unheard of.\nl.7 \\weird\n"

    assert shown(log_errors(log=log, source="")) == [(7, "Erreur TeX : Something unheard of.")]


def test_a_stored_error_is_shown_in_the_language_of_the_page_that_shows_it() -> None:
    log = "! Undefined control sequence.\nl.4 \\fooo\n"
    [error] = log_errors(log=log, source="")
    stored = [asdict(error)]  # as the task worker saves it, whatever its language

    with translation.override("en"):
        english = errors_shown(stored)
    with translation.override("fr"):
        french = errors_shown(stored)

    assert english == [
        {"line": 4, "message": "Unknown command: \\fooo (a typo or a missing package)."}
    ]
    assert french == [
        {"line": 4, "message": "Commande inconnue : \\fooo (faute de frappe ou paquet manquant)."}
    ]


def test_a_size_in_a_stored_error_is_written_the_readers_way() -> None:
    error = CompileError(
        line=None,
        template="Compilation arrêtée : ce qu’elle écrit dépasse %(size)s (boucle sans fin ?).",
        params={"size": 20 * 1024 * 1024},
    )

    with translation.override("en"):
        assert (
            error.message
            == "Compilation stopped: its output exceeds 20.0\xa0MB (an endless loop?)."
        )
    with translation.override("fr"):
        assert "dépasse 20,0\xa0Mio" in error.message


def test_an_error_stored_before_its_message_was_kept_untranslated_is_shown_as_stored() -> None:
    stored = [{"line": 5, "message": "Commande inconnue : \\mathbb"}]

    with translation.override("en"):
        assert errors_shown(stored) == stored
