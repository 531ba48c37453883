"""PDF pages as images, for the engines that read pictures (Tesseract, vision models).

pypdfium2 renders: Google's PDFium shipped in a wheel (no Debian package, no subprocess,
BSD-3/Apache-2 licences), several times faster than poppler's pdftoppm. Uploads have already
passed the pypdf gate (latexocr/engines/pdf.py) before they get here.

Two limits keep a hostile page from taking the worker down:
- the pixel size: a page whose MediaBox is metres wide would be gigapixels at 300 dpi; it is
  rendered at the highest resolution that fits in `max_pixels` (and `MAX_SIDE_PIXELS` a side);
- PDFium is not thread-safe (not even across documents), so every call into it holds one
  process-wide lock; rendering a page takes a fraction of a second, OCR runs outside the lock.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

DEFAULT_DPI = 300
# An A4 page at 300 dpi is 8.7 megapixels (8.7 MB in grey, 26 MB in colour); A3 is 17.4.
MAX_PIXELS = 20_000_000
MAX_SIDE_PIXELS = 12_000
POINTS_PER_INCH = 72

ImageFormat = Literal["PNG", "JPEG"]

# PDFium keeps global state: one call at a time in this process, whatever the document.
PDFIUM_LOCK = threading.Lock()


class PageRenderFailed(Exception):
    """PDFium could not open the document or draw the page."""


def render_scale(
    width_points: float, height_points: float, *, dpi: int, max_pixels: int = MAX_PIXELS
) -> float:
    """Pixels per PDF point: `dpi` / 72, lowered until the page fits the pixel bounds."""
    scale = dpi / POINTS_PER_INCH
    width, height = max(width_points, 1.0), max(height_points, 1.0)
    if width * height * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
    if max(width, height) * scale > MAX_SIDE_PIXELS:
        scale = MAX_SIDE_PIXELS / max(width, height)
    return scale


class PdfPageImages:
    """An open PDF whose pages are rendered one at a time; use it as a context manager.

    `pdf` is the document's bytes or a path to it.
    """

    def __init__(self, pdf: bytes | Path) -> None:
        with PDFIUM_LOCK:
            try:
                self._document = pdfium.PdfDocument(pdf)
                self.page_count: int = len(self._document)
            except pdfium.PdfiumError as error:
                raise PageRenderFailed(str(error)) from error

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with PDFIUM_LOCK:
            self._document.close()

    def render(
        self,
        page_index: int,
        *,
        dpi: int = DEFAULT_DPI,
        grey: bool = True,
        max_pixels: int = MAX_PIXELS,
    ) -> Image.Image:
        """Page `page_index` (0-based) as an image: mode "L" when `grey`, else "RGB"."""
        if not 0 <= page_index < self.page_count:
            raise IndexError(f"page {page_index} of a {self.page_count}-page PDF")
        with PDFIUM_LOCK:
            try:
                page = self._document[page_index]
                try:
                    width, height = page.get_size()
                    scale = render_scale(width, height, dpi=dpi, max_pixels=max_pixels)
                    bitmap = page.render(scale=scale, grayscale=grey, rev_byteorder=True)
                    try:
                        # to_pil shares the bitmap's buffer: copy before the bitmap is freed.
                        image = bitmap.to_pil().copy()
                    finally:
                        bitmap.close()
                finally:
                    page.close()
            except pdfium.PdfiumError as error:
                raise PageRenderFailed(str(error)) from error
        return image if image.mode in ("L", "RGB") else image.convert("L" if grey else "RGB")

    def image_coverage(self, page_index: int) -> float:
        """The share of the page (0 to 1) under images: near 1 for a scanned page."""
        with PDFIUM_LOCK:
            try:
                page = self._document[page_index]
                try:
                    width, height = page.get_size()
                    covered = 0.0
                    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                        left, bottom, right, top = image.get_bounds()
                        covered += max(0.0, right - left) * max(0.0, top - bottom)
                finally:
                    page.close()
            except pdfium.PdfiumError as error:
                raise PageRenderFailed(str(error)) from error
        return min(1.0, covered / max(width * height, 1.0))

    def render_bytes(
        self,
        page_index: int,
        *,
        dpi: int = DEFAULT_DPI,
        grey: bool = True,
        max_pixels: int = MAX_PIXELS,
        image_format: ImageFormat = "PNG",
        jpeg_quality: int = 85,
    ) -> bytes:
        """Page `page_index` encoded as PNG (lossless, for OCR) or JPEG (small, for uploads)."""
        image = self.render(page_index, dpi=dpi, grey=grey, max_pixels=max_pixels)
        return image_bytes(image, image_format=image_format, jpeg_quality=jpeg_quality)

    def pages(
        self, *, dpi: int = DEFAULT_DPI, grey: bool = True, max_pixels: int = MAX_PIXELS
    ) -> Iterator[Image.Image]:
        """Every page in order, one image alive at a time if the caller drops each."""
        for index in range(self.page_count):
            yield self.render(index, dpi=dpi, grey=grey, max_pixels=max_pixels)


def image_bytes(
    image: Image.Image, *, image_format: ImageFormat = "PNG", jpeg_quality: int = 85
) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, format="JPEG", quality=jpeg_quality, optimize=True)
    else:
        # Level 1: OCR reads it once; the default level triples the encoding time for ~10 %.
        image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def render_page(
    pdf: bytes | Path,
    page_index: int,
    *,
    dpi: int = DEFAULT_DPI,
    grey: bool = True,
    max_pixels: int = MAX_PIXELS,
) -> Image.Image:
    """One page of a PDF as an image (opens the document for this page only)."""
    with PdfPageImages(pdf) as document:
        return document.render(page_index, dpi=dpi, grey=grey, max_pixels=max_pixels)


def render_page_bytes(
    pdf: bytes | Path,
    page_index: int,
    *,
    dpi: int = DEFAULT_DPI,
    grey: bool = True,
    max_pixels: int = MAX_PIXELS,
    image_format: ImageFormat = "PNG",
    jpeg_quality: int = 85,
) -> bytes:
    """One page of a PDF as PNG or JPEG bytes."""
    with PdfPageImages(pdf) as document:
        return document.render_bytes(
            page_index,
            dpi=dpi,
            grey=grey,
            max_pixels=max_pixels,
            image_format=image_format,
            jpeg_quality=jpeg_quality,
        )
