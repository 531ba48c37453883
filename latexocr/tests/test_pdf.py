from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from latexocr.pdf import PdfInvalid, pdf_page_count, pdf_pages, pdf_text_pages
from tests.pdfs import blank_pdf, encrypted_pdf, pdf_with_text


def test_a_valid_pdf_gives_its_page_count() -> None:
    assert pdf_page_count(blank_pdf(3), max_pages=200) == 3


@pytest.mark.parametrize(
    "data", [b"", b"hello world", b"PK\x03\x04 a zip", b"  %PDF-1.4 header not at the start"]
)
def test_a_file_not_starting_with_the_pdf_header_is_refused(data: bytes) -> None:
    with pytest.raises(PdfInvalid, match="est pas un PDF"):
        pdf_page_count(data, max_pages=200)


def test_a_file_with_a_pdf_header_that_pypdf_cannot_open_is_refused() -> None:
    with pytest.raises(PdfInvalid, match="endommagé ou illisible"):
        pdf_page_count(b"%PDF-1.7\n" + b"\x00garbage" * 100, max_pages=200)


def test_an_encrypted_pdf_is_refused_with_a_message() -> None:
    with pytest.raises(PdfInvalid, match="mot de passe"):
        pdf_page_count(encrypted_pdf(), max_pages=200)


def test_a_pdf_with_more_pages_than_the_limit_is_refused() -> None:
    with pytest.raises(PdfInvalid, match="5 pages ; la limite est de 4"):
        pdf_page_count(blank_pdf(5), max_pages=4)


def test_a_pdf_without_pages_is_refused() -> None:
    buffer = io.BytesIO()
    PdfWriter().write(buffer)

    with pytest.raises(PdfInvalid, match="aucune page"):
        pdf_page_count(buffer.getvalue(), max_pages=200)


def test_pdf_pages_extracts_the_requested_range_in_order() -> None:
    source = pdf_with_text([f"Page numéro {n}" for n in range(1, 8)])

    part = PdfReader(io.BytesIO(pdf_pages(source, start=2, stop=5)))

    assert [page.extract_text().strip() for page in part.pages] == [
        "Page numéro 3",
        "Page numéro 4",
        "Page numéro 5",
    ]


def test_pdf_text_pages_is_empty_for_pages_without_a_text_layer() -> None:
    assert pdf_text_pages(blank_pdf(2)) == ["", ""]
