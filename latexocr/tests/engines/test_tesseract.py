from __future__ import annotations

import pytest

from latexocr.engines import tesseract
from latexocr.engines.page_images import render_page_bytes
from tests.pdfs import pdf_with_text

needs_tesseract = pytest.mark.skipif(
    not tesseract.tesseract_available(),
    reason="Tesseract (fra, eng) is not installed (scripts/system-packages installs it as root)",
)

TSV = "\n".join(
    [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t2480\t3508\t-1\t",
        "5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t96.5\tExercice",
        "5\t1\t1\t1\t1\t2\t70\t10\t10\t20\t91.0\t1",
        "5\t1\t2\t1\t1\t1\t10\t40\t50\t20\t90.0\tSoit",
        "5\t1\t2\t1\t2\t1\t10\t70\t50\t20\t30.0\tsuite",
        "5\t1\t2\t1\t2\t2\t70\t70\t50\t20\t95.0\t ",
    ]
)


def test_the_tsv_output_gives_paragraphs_of_lines() -> None:
    page = tesseract.ocr_page_from_tsv(TSV)
    assert page.paragraphs() == [["Exercice 1"], ["Soit", "suite"]]


def test_the_page_confidence_is_weighted_by_word_length() -> None:
    page = tesseract.ocr_page_from_tsv(TSV)
    expected = (96.5 * 8 + 91.0 * 1 + 90.0 * 4 + 30.0 * 5) / 18
    assert page.confidence == pytest.approx(expected)


def test_a_page_without_words_has_no_confidence() -> None:
    assert tesseract.ocr_page_from_tsv(TSV.split("\n5")[0]).confidence == 0.0


def test_a_missing_program_raises_tesseract_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    assert not tesseract.tesseract_available()
    with pytest.raises(tesseract.TesseractMissing):
        tesseract.ocr_image(b"\x89PNG", timeout_s=5)


@needs_tesseract
def test_a_printed_french_page_is_read_with_high_confidence() -> None:
    image = render_page_bytes(pdf_with_text(["Le théorème de Pythagore est démontré."]), 0)
    page = tesseract.ocr_image(image, timeout_s=60)
    assert page.paragraphs() == [["Le théorème de Pythagore est démontré."]]
    assert page.confidence > 85


@needs_tesseract
def test_a_page_over_its_time_limit_raises_tesseract_timeout() -> None:
    image = render_page_bytes(pdf_with_text(["Un texte à lire " * 20]), 0)
    with pytest.raises(tesseract.TesseractTimeout):
        tesseract.ocr_image(image, timeout_s=0.05)


@needs_tesseract
def test_a_missing_language_raises_tesseract_missing() -> None:
    image = render_page_bytes(pdf_with_text(["Texte"]), 0, dpi=100)
    with pytest.raises(tesseract.TesseractMissing):
        tesseract.ocr_image(image, timeout_s=30, languages="xyz")
