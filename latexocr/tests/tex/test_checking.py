"""The compile check and its one repair round, against a real TeX Live and the fake Gemini."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from latexocr.tests.texlive import BROKEN_DOCUMENT, REPAIRED_DOCUMENT, needs_tex, tex_document
from latexocr.tex.checking import latex_check, repair_prompt
from latexocr.tex.errors import CompileError
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply


@pytest.fixture
def pdflatex(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"


def prompt_of(fake: FakeGemini, index: int) -> str:
    body = fake.generate_requests()[index].body
    return "".join(part.get("text", "") for part in body["contents"][0]["parts"])


@pytest.mark.usefixtures("pdflatex")
class TestTheCompileCheck:
    pytestmark = needs_tex

    def test_a_document_that_compiles_asks_gemini_nothing(self, fake_gemini: FakeGemini) -> None:
        check = latex_check(latex=tex_document("Bonjour."), repair=True)

        assert check.compiled
        assert check.original.pdf is not None
        assert check.repaired is None
        assert check.gemini_calls == 0
        assert fake_gemini.generate_requests() == []

    def test_a_broken_document_goes_back_to_gemini_with_its_errors_and_the_fix_compiles(
        self, fake_gemini: FakeGemini, settings: Any
    ) -> None:
        fake_gemini.queue(Reply(text=f"```latex\n{REPAIRED_DOCUMENT}```\n", input_tokens=7))

        check = latex_check(latex=BROKEN_DOCUMENT, repair=True)

        assert not check.original.compiled
        assert check.original.errors[0].line == 5
        assert check.repaired is not None and check.repaired.compiled
        assert check.repaired_latex == REPAIRED_DOCUMENT
        assert check.compiled
        assert check.repair_error_message == ""
        assert check.gemini_calls == 1
        assert check.input_tokens == 7
        [request] = fake_gemini.generate_requests()
        assert request.model == settings.LATEXOCR_GEMINI_MODEL
        prompt = prompt_of(fake_gemini, 0)
        assert "ligne 5" in prompt
        assert "\\mathbb" in prompt
        assert BROKEN_DOCUMENT.strip() in prompt

    def test_a_repair_that_still_fails_keeps_the_errors_of_both_versions(
        self,
        fake_gemini: FakeGemini,
    ) -> None:
        fake_gemini.queue(Reply(text=tex_document("Soit $x^2^3$.")))

        check = latex_check(latex=BROKEN_DOCUMENT, repair=True)

        assert not check.compiled
        assert check.repaired is not None
        assert "Double exposant" in check.repaired.errors[0].message
        assert "\\mathbb" in check.original.errors[0].message

    def test_without_repair_a_broken_document_is_only_reported(
        self, fake_gemini: FakeGemini
    ) -> None:
        check = latex_check(latex=BROKEN_DOCUMENT, repair=False)

        assert not check.compiled
        assert check.original.errors
        assert check.repair_error_message == ""
        assert fake_gemini.generate_requests() == []

    @pytest.mark.parametrize(
        ("reply", "message"),
        [
            (Reply(status=400), "le modèle a refusé la demande"),
            (
                Reply(status=429, quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
                "quota quotidien",
            ),
            (Reply(text=REPAIRED_DOCUMENT[:80], finish_reason="MAX_TOKENS"), "coupée"),
            (Reply(text="Je ne peux pas corriger ce document."), "pas renvoyé de document complet"),
            (Reply(text=f"```latex\n{BROKEN_DOCUMENT}```"), "sans le modifier"),
        ],
    )
    def test_a_repair_round_that_gives_no_document_says_why(
        self, fake_gemini: FakeGemini, reply: Reply, message: str
    ) -> None:
        fake_gemini.queue(reply)

        check = latex_check(latex=BROKEN_DOCUMENT, repair=True)

        assert not check.compiled
        assert check.original.errors
        assert check.repaired is None
        assert check.repaired_latex == ""
        assert message in check.repair_error_message

    def test_gemini_unavailable_during_the_repair_round_is_reported_not_raised(
        self, fake_gemini: FakeGemini, settings: Any
    ) -> None:
        fake_gemini.queue(*[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS)

        check = latex_check(latex=BROKEN_DOCUMENT, repair=True)

        assert check.repaired is None
        assert "indisponible" in check.repair_error_message
        assert len(fake_gemini.generate_requests()) == settings.LATEXOCR_MAX_ATTEMPTS


def test_the_repair_prompt_lists_each_error_with_its_line_and_holds_the_whole_document() -> None:
    source = "\\documentclass{article}\n\\begin{document}\n$x \\in \\mathbb{R}$\n\\end{document}\n"
    errors = [
        CompileError(
            line=3,
            template="Commande inconnue : %(command)s (il manque \\usepackage{%(package)s}).",
            params={"command": "\\mathbb", "package": "amssymb"},
        ),
        CompileError(line=None, template="Le document se termine sans \\end{document}."),
    ]

    with translation.override("en"):  # a repair asked from a page in English
        prompt = repair_prompt(source=source, errors=errors)

    assert (
        "- ligne 3 ($x \\in \\mathbb{R}$) : Commande inconnue : \\mathbb "
        "(il manque \\usepackage{amssymb})." in prompt
    )
    assert "- Le document se termine sans \\end{document}." in prompt
    assert prompt.rstrip().endswith(source.rstrip())
    assert "document complet corrigé" in prompt
    assert "uniquement avec le code LaTeX" in prompt
    assert "${" not in prompt
