"""The local engine (no key, nothing leaves the server): text layers, and Tesseract for scans.

Each page is read the cheapest way that works: its text layer when it has one worth reading
(cleaned and structured by engines/text_layer.py), otherwise its picture, rendered at 300 dpi
in grey (engines/page_images.py) and read by Tesseract in French and English
(engines/tesseract.py). A PDF may mix both.

Tesseract's confidence tells printed pages from handwriting and photos: a page below
`LOW_CONFIDENCE` is kept (it is what could be read) but flagged, and the student is told that
handwriting and formulas need the Gemini engine. When nothing usable was read the
conversion does not count against the daily quota.

Scanned pages run `LATEXOCR_LOCAL_PARALLEL_PAGES` at a time (each Tesseract process on one
core), each within `LATEXOCR_LOCAL_PAGE_TIMEOUT_S`; progress is reported per page, which is
also the worker's sign of life for the reaper.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum

from django.conf import settings
from pypdf import PdfReader
from pypdf.errors import LimitReachedError, PyPdfError

from latexocr.engines import tesseract
from latexocr.engines.page_images import DEFAULT_DPI, PageRenderFailed, PdfPageImages
from latexocr.engines.pdf import bounded_decompression
from latexocr.engines.text_layer import (
    NUMBERED_TITLE,
    TITLE_MAX_CHARS,
    TextBlock,
    TextLine,
    body_font_size,
    lines_join,
    page_blocks,
    page_lines,
    repeated_lines,
    strip_page_furniture,
    text_clean,
)
from latexocr.tex.latex import LocalPage, latex_from_local_pages

logger = logging.getLogger(__name__)

# A page mostly covered by pictures with little text is a scan (its text is in the picture;
# the text layer, if any, is a scanner's stamp or a page number).
SCAN_IMAGE_COVERAGE = 0.5
SCAN_MAX_TEXT_LETTERS = 200
# Printed pages read at 85-96; handwriting and photos below 60 (measured, docs/latexocr.md).
LOW_CONFIDENCE = 70.0


class PageIssue(StrEnum):
    """Why a page's text may be missing or wrong (stored per page on the conversion)."""

    LOW_CONFIDENCE = "low_confidence"  # handwriting, a photo, formulas: read, but unreliable
    TIMEOUT = "timeout"  # took longer than the per-page limit: not read
    OCR_UNAVAILABLE = "ocr_unavailable"  # a scan, and Tesseract is not installed: not read
    UNREADABLE = "unreadable"  # PDFium or Tesseract failed on it: not read


PAGE_NOTES = {
    PageIssue.LOW_CONFIDENCE: "lecture peu sûre (écriture manuscrite, photo ou formules ?)",
    PageIssue.TIMEOUT: "page non lue : sa lecture a pris trop de temps",
    PageIssue.OCR_UNAVAILABLE: "page scannée non lue : la reconnaissance de texte manque",
    PageIssue.UNREADABLE: "page non lue : elle n’a pas pu être affichée ou reconnue",
}


@dataclass
class PageReading:
    blocks: list[TextBlock] = field(default_factory=list)
    issue: PageIssue | None = None
    ocr: bool = False
    confidence: float | None = None
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return bool(self.blocks) and self.issue is None


@dataclass(frozen=True)
class LocalReading:
    """What the local engine made of a document."""

    latex: str
    pages: list[PageReading]

    @property
    def page_issues(self) -> dict[int, PageIssue]:
        """1-based page number → issue, for the pages that have one."""
        return {
            number: page.issue
            for number, page in enumerate(self.pages, start=1)
            if page.issue is not None
        }

    @property
    def anything_usable(self) -> bool:
        return any(page.usable for page in self.pages)

    @property
    def anything_read(self) -> bool:
        return any(page.blocks for page in self.pages)


class NothingToRead(Exception):
    """No page has any text, in its layer or in its picture (blank pages)."""


class OcrUnavailable(Exception):
    """Every page needs OCR and Tesseract is not installed."""


ProgressCallback = Callable[[int], None]


def _letters(lines: list[TextLine]) -> int:
    return sum(char.isalpha() for line in lines for char in line.text)


def _needs_ocr(lines: list[TextLine], coverage: float) -> bool:
    letters = _letters(lines)
    if not letters:
        return True
    return coverage >= SCAN_IMAGE_COVERAGE and letters < SCAN_MAX_TEXT_LETTERS


def ocr_blocks(page: tesseract.OcrPage) -> list[TextBlock]:
    """Tesseract's paragraphs as blocks; a one-line numbered title becomes a heading."""
    blocks = []
    for lines in page.paragraphs():
        text = text_clean(lines_join(lines), ascii_accents=False)
        if not text:
            continue
        title = (
            len(lines) == 1
            and len(text) <= TITLE_MAX_CHARS
            and NUMBERED_TITLE.match(text)
            and not text.endswith((".", ",", ";"))
        )
        blocks.append(TextBlock(kind="subsection" if title else "paragraph", text=text))
    return blocks


def _read_scan(images: PdfPageImages, index: int, *, timeout_s: float) -> PageReading:
    started = time.monotonic()
    try:
        png = images.render_bytes(index, dpi=DEFAULT_DPI, grey=True)
        page = tesseract.ocr_image(png, timeout_s=timeout_s)
    except tesseract.TesseractTimeout:
        logger.warning("page %d: tesseract timed out after %s s", index + 1, timeout_s)
        return PageReading(issue=PageIssue.TIMEOUT, ocr=True)
    except tesseract.TesseractMissing as error:
        logger.warning("page %d: %s", index + 1, error)
        return PageReading(issue=PageIssue.OCR_UNAVAILABLE, ocr=True)
    except (tesseract.TesseractError, PageRenderFailed) as error:
        logger.warning("page %d not read: %s", index + 1, error)
        return PageReading(issue=PageIssue.UNREADABLE, ocr=True)
    confidence = page.confidence
    blocks = ocr_blocks(page)
    return PageReading(
        blocks=blocks,
        issue=PageIssue.LOW_CONFIDENCE if blocks and confidence < LOW_CONFIDENCE else None,
        ocr=True,
        confidence=confidence,
        seconds=time.monotonic() - started,
    )


def read_locally(*, pdf: bytes, on_progress: ProgressCallback | None = None) -> LocalReading:
    """Read every page (text layer or Tesseract) and build the document.

    `on_progress(pages_done)` is called from this thread after each page. Raises
    NothingToRead when no page holds any text, OcrUnavailable when every page is a scan and
    Tesseract is missing.
    """
    report = on_progress or (lambda _done: None)
    with bounded_decompression():
        # Buffered: pypdf then never copies the whole PDF (see engines/pdf.py, _reader_stream).
        reader = PdfReader(io.BufferedReader(io.BytesIO(pdf)))
        layers: list[list[TextLine]] = []
        # Pages whose content inflates past the bound: never handed to PDFium either.
        oversized: set[int] = set()
        for index, page in enumerate(reader.pages):
            try:
                layers.append(page_lines(page))
            except LimitReachedError as error:
                logger.warning("page %d: content over the inflate bound (%s)", index + 1, error)
                layers.append([])
                oversized.add(index)
            except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as error:
                logger.info("page %d: text layer unreadable (%s), read as a scan", index + 1, error)
                layers.append([])

    with PdfPageImages(pdf) as images:
        scans = [
            index
            for index, lines in enumerate(layers)
            if index not in oversized
            and _letters(lines) < SCAN_MAX_TEXT_LETTERS
            and _needs_ocr(lines, images.image_coverage(index))
        ]
        if scans and len(scans) == len(layers) and not tesseract.tesseract_available():
            raise OcrUnavailable
        readings: dict[int, PageReading] = {
            index: PageReading(issue=PageIssue.UNREADABLE) for index in oversized
        }
        text_pages = [
            lines
            for index, lines in enumerate(layers)
            if index not in scans and index not in oversized
        ]
        body_size = body_font_size(text_pages)
        repeated = repeated_lines(text_pages)
        for index, lines in enumerate(layers):
            if index not in scans and index not in oversized:
                blocks = page_blocks(strip_page_furniture(lines, repeated), body_size=body_size)
                readings[index] = PageReading(blocks=blocks)
        done = len(readings)
        if done:
            report(done)
        if scans:
            done = _read_scans(images, scans, readings, done=done, report=report)

    pages = [readings[index] for index in range(len(layers))]
    if not any(page.blocks for page in pages) and not any(page.issue for page in pages):
        raise NothingToRead
    local_pages = [
        LocalPage(blocks=page.blocks, note=PAGE_NOTES[page.issue] if page.issue else "")
        for page in pages
    ]
    return LocalReading(latex=latex_from_local_pages(local_pages), pages=pages)


def _read_scans(
    images: PdfPageImages,
    scans: list[int],
    readings: dict[int, PageReading],
    *,
    done: int,
    report: ProgressCallback,
) -> int:
    timeout_s = settings.LATEXOCR_LOCAL_PAGE_TIMEOUT_S
    if not tesseract.tesseract_available():
        for index in scans:
            readings[index] = PageReading(issue=PageIssue.OCR_UNAVAILABLE, ocr=True)
        report(done + len(scans))
        return done + len(scans)
    executor = ThreadPoolExecutor(
        max_workers=max(1, settings.LATEXOCR_LOCAL_PARALLEL_PAGES), thread_name_prefix="ocr"
    )
    try:
        pending: dict[Future[PageReading], int] = {
            executor.submit(_read_scan, images, index, timeout_s=timeout_s): index
            for index in scans
        }
        while pending:
            finished, _running = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                index = pending.pop(future)
                readings[index] = future.result()
                done += 1
                report(done)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return done
