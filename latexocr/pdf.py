"""pypdf as the gate for uploaded PDFs, and the page-level tools the conversions need.

pypdf is used only to check the header, encryption and page count, to split pages into
ranges, and to read the text layer: it is the parser that refuses decompression bombs
quickly, so nothing else parses an upload.
"""

from __future__ import annotations

import io
import logging

from django.utils.translation import gettext as _
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"


class PdfInvalid(Exception):
    """The upload is not a PDF we can convert; the message is shown to the user."""


def pdf_page_count(data: bytes, *, max_pages: int) -> int:
    """The number of pages of an acceptable PDF, or PdfInvalid saying why it is refused."""
    if not data.startswith(PDF_MAGIC):
        raise PdfInvalid(_("Ce fichier n'est pas un PDF."))
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise PdfInvalid(
                _(
                    "Ce PDF est protégé par un mot de passe ou chiffré : enregistrez-en une "
                    "copie sans protection, puis déposez-la."
                )
            )
        pages = len(reader.pages)
    except PdfInvalid:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        # pypdf raises more than its own errors on malformed files; all mean "unreadable".
        logger.info("pdf refused by pypdf: %s", error)
        raise PdfInvalid(_("Ce PDF est endommagé ou illisible.")) from error
    if pages == 0:
        raise PdfInvalid(_("Ce PDF ne contient aucune page."))
    if pages > max_pages:
        raise PdfInvalid(
            _("Ce PDF a %(pages)d pages ; la limite est de %(max)d pages.")
            % {"pages": pages, "max": max_pages}
        )
    return pages


def pdf_pages(data: bytes, *, start: int, stop: int) -> bytes:
    """A new PDF holding pages [start, stop) (0-based) of `data`."""
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for index in range(start, stop):
        writer.add_page(reader.pages[index])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_text_pages(data: bytes) -> list[str]:
    """The text layer of each page ('' for a page without one)."""
    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]
