from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from latexocr.engines import tesseract
from platform_site.llm.tests.fakes.gemini import FakeGemini
from tests.pdfs import HANDWRITTEN_FIXTURE, pdf_with_text


def test_convert_pdf_with_the_local_backend_writes_the_tex_file(tmp_path: Path) -> None:
    source = tmp_path / "cours.pdf"
    source.write_bytes(pdf_with_text(["Chapitre 1 : les ensembles"]))
    target = tmp_path / "cours.tex"

    call_command(
        "convert_pdf", str(source), "-o", str(target), "--backend", "local", stderr=io.StringIO()
    )

    assert "Chapitre 1 : les ensembles" in target.read_text(encoding="utf-8")


def test_convert_pdf_with_gemini_prints_the_latex(fake_gemini: FakeGemini) -> None:
    out = io.StringIO()

    call_command(
        "convert_pdf",
        str(HANDWRITTEN_FIXTURE),
        "--backend",
        "gemini",
        stdout=out,
        stderr=io.StringIO(),
    )

    assert out.getvalue().startswith("\\documentclass")
    assert len(fake_gemini.generate_requests()) == 1


def test_convert_pdf_explains_that_a_scan_cannot_be_read_without_tesseract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    with pytest.raises(CommandError, match="documents scannés"):
        call_command("convert_pdf", str(HANDWRITTEN_FIXTURE), "--backend", "local")


def test_convert_pdf_refuses_a_file_that_is_not_a_pdf(tmp_path: Path) -> None:
    source = tmp_path / "notes.pdf"
    source.write_text("pas un pdf")

    with pytest.raises(CommandError, match="PDF"):
        call_command("convert_pdf", str(source), "--backend", "local")
