from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter

from latexocr.engines.page_images import (
    MAX_SIDE_PIXELS,
    PageRenderFailed,
    PdfPageImages,
    render_page,
    render_page_bytes,
    render_scale,
)
from tests.pdfs import blank_pdf, pdf_with_text


def _pdf_with_page_size(width: float, height: float) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=width, height=height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_an_a4_page_at_300_dpi_is_about_2480_by_3508_grey_pixels() -> None:
    image = render_page(blank_pdf(1), 0, dpi=300)
    assert image.mode == "L"
    assert image.size == (2480, 3509)  # 842 pt * 300/72 = 3508.3, rounded up


def test_a_colour_render_is_rgb() -> None:
    image = render_page(blank_pdf(1), 0, dpi=72, grey=False)
    assert image.mode == "RGB"
    assert image.size == (595, 842)


def test_the_text_of_a_page_is_drawn_in_dark_pixels_on_white() -> None:
    image = render_page(pdf_with_text(["Bonjour le monde"]), 0, dpi=150)
    assert image.getextrema() == (0, 255)


def test_a_blank_page_is_all_white() -> None:
    assert render_page(blank_pdf(1), 0, dpi=100).getextrema() == (255, 255)


def test_a_huge_mediabox_is_rendered_within_the_pixel_bound() -> None:
    # 14,400 points square (the largest page PDF allows): 3.6 gigapixels at 300 dpi.
    image = render_page(_pdf_with_page_size(14_400, 14_400), 0, dpi=300, max_pixels=4_000_000)
    width, height = image.size
    assert width * height <= 4_000_000 * 1.01
    assert width == height


def test_a_very_long_thin_page_is_bounded_on_its_long_side() -> None:
    image = render_page(_pdf_with_page_size(14_400, 20), 0, dpi=300)
    assert max(image.size) <= MAX_SIDE_PIXELS + 1


def test_the_scale_is_the_dpi_over_72_when_the_page_fits() -> None:
    assert render_scale(595, 842, dpi=144) == pytest.approx(2.0)


def test_the_scale_is_lowered_so_the_page_fits_the_pixel_bound() -> None:
    scale = render_scale(10_000, 10_000, dpi=300, max_pixels=1_000_000)
    assert (10_000 * scale) ** 2 == pytest.approx(1_000_000)


def test_png_and_jpeg_bytes_decode_to_the_page_image() -> None:
    pdf = pdf_with_text(["Exercice 1"])
    png = render_page_bytes(pdf, 0, dpi=100)
    jpeg = render_page_bytes(pdf, 0, dpi=100, grey=False, image_format="JPEG")
    assert png.startswith(b"\x89PNG")
    assert jpeg.startswith(b"\xff\xd8")
    assert Image.open(io.BytesIO(png)).size == Image.open(io.BytesIO(jpeg)).size


def test_a_pdf_is_read_from_a_path_too(tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(blank_pdf(2))
    with PdfPageImages(path) as document:
        assert document.page_count == 2
        assert [image.size for image in document.pages(dpi=72)] == [(595, 842)] * 2


def test_a_page_index_out_of_range_raises_index_error() -> None:
    with PdfPageImages(blank_pdf(2)) as document, pytest.raises(IndexError):
        document.render(2)


def test_bytes_that_are_not_a_pdf_raise_page_render_failed() -> None:
    with pytest.raises(PageRenderFailed):
        render_page(b"%PDF-1.4 not really", 0)


def test_pages_render_correctly_from_several_threads_at_once() -> None:
    pdf = pdf_with_text(["A", "B", "C", "D"])
    results: dict[int, tuple[int, int]] = {}

    def render(index: int) -> None:
        results[index] = render_page(pdf, index, dpi=100).size

    threads = [threading.Thread(target=render, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {index: (827, 1170) for index in range(4)}
