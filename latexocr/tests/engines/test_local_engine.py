from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from latexocr.engines import local_engine, tesseract
from latexocr.engines.local_engine import NothingToRead, OcrUnavailable, PageIssue, read_locally
from latexocr.tests.engines.test_tesseract import needs_tesseract
from tests.pdfs import HANDWRITTEN_FIXTURE, blank_pdf, image_only_pdf, pdf_with_text

FRENCH_SHEET = (
    "Exercice 1\n\nSoit f la fonction définie sur R par f(x) = 3x + 2.\n"
    "Calculer f(0) puis montrer que f est strictement croissante."
)


def _concatenated(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for pdf in pdfs:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_text_layer_page_is_read_without_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ocr(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a page with a text layer must not be sent to Tesseract")

    monkeypatch.setattr(tesseract, "ocr_image", no_ocr)
    reading = read_locally(pdf=pdf_with_text([FRENCH_SHEET]))

    [page] = reading.pages
    assert not page.ocr and page.issue is None
    assert "\\subsection*{Exercice 1}" in reading.latex
    assert "Soit f la fonction définie sur R par f(x) = 3x + 2. Calculer f(0)" in reading.latex


def test_a_pdf_of_blank_pages_raises_nothing_to_read() -> None:
    with pytest.raises(NothingToRead):
        read_locally(pdf=blank_pdf(2))


def test_a_scan_without_tesseract_installed_raises_ocr_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    with pytest.raises(OcrUnavailable):
        read_locally(pdf=image_only_pdf(pdf_with_text(["Bonjour"]), dpi=50))


def test_in_a_mixed_pdf_without_tesseract_the_scanned_pages_are_flagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    pdf = _concatenated(pdf_with_text([FRENCH_SHEET]), image_only_pdf(blank_pdf(1), dpi=50))

    reading = read_locally(pdf=pdf)

    assert reading.page_issues == {2: PageIssue.OCR_UNAVAILABLE}
    assert reading.anything_usable
    assert "% page scannée non lue" in reading.latex


@needs_tesseract
def test_a_mixed_pdf_reads_its_text_layer_and_its_scanned_page_with_progress() -> None:
    pdf = _concatenated(
        pdf_with_text([FRENCH_SHEET]),
        image_only_pdf(pdf_with_text(["Exercice 2\n\nLe théorème de Thalès est démontré."])),
    )
    progress: list[int] = []

    reading = read_locally(pdf=pdf, on_progress=progress.append)

    assert [page.ocr for page in reading.pages] == [False, True]
    assert reading.pages[1].confidence is not None and reading.pages[1].confidence > 85
    assert reading.page_issues == {}
    assert "Le théorème de Thalès est démontré." in reading.latex
    assert progress == [1, 2]
    assert "\\usepackage[french]{babel}" in reading.latex


@needs_tesseract
def test_an_english_scan_is_declared_english() -> None:
    text = (
        "Let f be the function defined on the real line. Show that it is continuous and\n"
        "that the limit of f at infinity is zero, then compute the integral of f."
    )
    reading = read_locally(pdf=image_only_pdf(pdf_with_text([text])))
    assert "\\usepackage[english]{babel}" in reading.latex
    assert "Show that it is continuous" in reading.latex


@needs_tesseract
def test_a_page_over_its_time_limit_is_flagged_and_the_others_kept(settings: Any) -> None:
    settings.LATEXOCR_LOCAL_PAGE_TIMEOUT_S = 0.01
    pdf = _concatenated(pdf_with_text([FRENCH_SHEET]), image_only_pdf(pdf_with_text(["Lent"])))

    reading = read_locally(pdf=pdf)

    assert reading.page_issues == {2: PageIssue.TIMEOUT}
    assert "Calculer f(0)" in reading.latex


@needs_tesseract
@pytest.mark.skipif(not HANDWRITTEN_FIXTURE.exists(), reason="the handwritten fixture is missing")
def test_the_handwritten_sheet_is_read_but_flagged_as_unsure() -> None:
    reading = read_locally(pdf=HANDWRITTEN_FIXTURE.read_bytes())

    [page] = reading.pages
    assert page.ocr and page.blocks
    assert page.confidence is not None and page.confidence < local_engine.LOW_CONFIDENCE
    assert reading.page_issues == {1: PageIssue.LOW_CONFIDENCE}
    assert not reading.anything_usable  # so the daily quota does not count it
    assert "% lecture peu sûre" in reading.latex
