from __future__ import annotations

import io
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, StreamObject

from latexocr.engines.local_engine import PageIssue, read_locally
from latexocr.engines.page_images import PdfPageImages
from latexocr.engines.pdf import (
    CONTENT_MAX_INFLATED_BYTES,
    STREAM_MAX_INFLATED_BYTES,
    PdfInvalid,
    pdf_page_count,
    pdf_pages,
)
from latexocr.models import Conversion
from tests.pdfs import blank_pdf, encrypted_pdf, flate_bomb_pdf, pdf_of_size, pdf_with_text


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


def test_a_flate_compressed_pdf_of_text_passes_the_gate() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_with_text(["Intégrale", "Dérivée"])))
    for page in writer.pages:
        page.compress_content_streams()
    buffer = io.BytesIO()
    writer.write(buffer)
    assert b"/FlateDecode" in buffer.getvalue()

    assert pdf_page_count(buffer.getvalue(), max_pages=200) == 2


def test_a_flate_bomb_is_refused_by_the_gate_with_a_clear_message() -> None:
    bomb = flate_bomb_pdf()  # ~1 KB inflating to 300 MB
    assert len(bomb) < 2_000

    with pytest.raises(PdfInvalid, match="données compressées démesurées"):
        pdf_page_count(bomb, max_pages=200)


def test_pages_whose_streams_together_inflate_beyond_the_budget_are_refused() -> None:
    # Each stream stays under the per-stream bound; six of them exceed the budget.
    per_page = STREAM_MAX_INFLATED_BYTES - 1_000_000
    pages = CONTENT_MAX_INFLATED_BYTES // per_page + 1

    with pytest.raises(PdfInvalid, match="données compressées démesurées"):
        pdf_page_count(flate_bomb_pdf(per_page, pages=pages), max_pages=200)


def test_the_local_engine_stops_at_the_stream_bound_and_never_renders_that_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_render(*args: object, **kwargs: object) -> None:
        raise AssertionError("a page over the inflate bound must not reach PDFium")

    monkeypatch.setattr(PdfPageImages, "render_bytes", no_render)
    # pypdf's own default (75 MB) would inflate this one whole.
    reading = read_locally(pdf=flate_bomb_pdf(STREAM_MAX_INFLATED_BYTES + 10_000_000))

    assert reading.page_issues == {1: PageIssue.UNREADABLE}
    assert not reading.anything_usable


@pytest.mark.django_db
def test_uploading_a_flate_bomb_answers_400_with_the_reason_and_stores_nothing(
    logged_in: Client,
) -> None:
    upload = SimpleUploadedFile("td1.pdf", flate_bomb_pdf(), content_type="application/pdf")

    response = logged_in.post("/ocr/", {"pdf": upload})

    assert response.status_code == 400
    assert "données compressées démesurées" in response.content.decode()
    assert not Conversion.objects.exists()


def test_a_content_stream_with_a_filter_pypdf_cannot_decode_is_left_to_the_converter() -> None:
    exotic = flate_bomb_pdf(1_000).replace(b"[/FlateDecode /FlateDecode]", b"/NoSuchDecode")

    assert pdf_page_count(exotic, max_pages=200) == 1


def pdf_with_image(*, width: int, height: int, inside_a_form: bool = False) -> bytes:
    """One page drawing an image XObject that declares `width` x `height` grey pixels in a
    few bytes of Flate (an image decompression bomb when the size is huge)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    image = StreamObject()
    image.set_data(zlib.compress(b"\0" * 1000))
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(width),
            NameObject("/Height"): NumberObject(height),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/FlateDecode"),
        }
    )
    drawn = writer._add_object(image)
    if inside_a_form:
        form = StreamObject()
        form.set_data(b"/Im0 Do")
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([NumberObject(0)] * 2 + [NumberObject(1)] * 2),
                NameObject("/Resources"): DictionaryObject(
                    {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): drawn})}
                ),
            }
        )
        drawn = writer._add_object(form)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/X0"): drawn})}
    )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


@pytest.mark.parametrize("inside_a_form", [False, True], ids=["on the page", "in a form"])
def test_an_image_declaring_too_many_pixels_is_refused_at_the_gate(inside_a_form: bool) -> None:
    bomb = pdf_with_image(width=100_000, height=100_000, inside_a_form=inside_a_form)
    assert len(bomb) < 5_000

    with pytest.raises(PdfInvalid, match="démesurées"):
        pdf_page_count(bomb, max_pages=200)


def test_a_scan_sized_image_passes_the_gate() -> None:
    scan = pdf_with_image(width=4960, height=7016)  # A4 at 600 dpi

    assert pdf_page_count(scan, max_pages=200) == 1


def test_reading_a_large_pdf_from_bytes_does_not_copy_it_whole() -> None:
    import tracemalloc

    data = pdf_of_size(["page un", "page deux"], 5_000_000)

    tracemalloc.start()
    try:
        assert pdf_page_count(data, max_pages=10) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 1_000_000
