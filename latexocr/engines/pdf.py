"""pypdf as the gate for uploaded PDFs, and the page-level tools the conversions need.

pypdf is used only to check the header, encryption and page count, to split pages into
ranges, and to read the text layer: it is the parser that refuses decompression bombs
quickly, so nothing else parses an upload.

Decompression is bounded tighter than pypdf's default (75 MB per stream, held twice while
decoding: a 1 KB upload could cost ~150 MB of a 512 MiB pod). The upload gate inflates every
page's content stream under that bound, so a Flate bomb is refused at upload (400) instead of
failing later in the worker.
"""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.utils.translation import gettext as _
from pypdf import Configuration, PdfReader, PdfWriter, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.filters import decode_stream_data
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

logger = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
# A page's drawing instructions are small: tens of KB for a page of text, one line placing
# the image for a scanned page. Images are not inflated here, only these instructions.
STREAM_MAX_INFLATED_BYTES = 20_000_000
CONTENT_MAX_INFLATED_BYTES = 100_000_000  # every page's content streams together
# Images are not inflated at the gate (a scan is legitimately large), but their declared
# size is what a renderer allocates: an image XObject declaring 100,000 x 100,000 pixels
# in a few bytes of Flate is a bomb for whoever renders the page. A 600 dpi A4 colour scan
# is 35 million pixels.
IMAGE_MAX_PIXELS = 150_000_000
_BOUNDED_DECOMPRESSION = Configuration(
    zlib_maximum_output_length=STREAM_MAX_INFLATED_BYTES,
    lzw_maximum_output_length=STREAM_MAX_INFLATED_BYTES,
    run_length_maximum_output_length=STREAM_MAX_INFLATED_BYTES,
    brotli_maximum_output_length=STREAM_MAX_INFLATED_BYTES,
    array_based_stream_maximum_output_length=STREAM_MAX_INFLATED_BYTES,
)


class PdfInvalid(Exception):
    """The upload is not a PDF we can convert; the message is shown to the user."""


def _reader_stream(data: bytes) -> IO[bytes]:
    """`data` as a stream pypdf reads without copying it whole.

    pypdf measures a stream with `getbuffer()` when it has one; a `BytesIO` made from bytes
    shares them until that call, which copies the whole PDF (20 MB for a large upload, once
    per page range in the worker), and the copy lives as long as the reader's reference
    cycles (docs/performance.md). A buffered reader over it has no `getbuffer()`: pypdf
    seeks to the end instead, and reads only the parts it needs.
    """
    return io.BufferedReader(io.BytesIO(data))


@contextmanager
def bounded_decompression() -> Iterator[None]:
    with apply_configuration(_BOUNDED_DECOMPRESSION):
        yield


def _check_content_streams(reader: PdfReader) -> None:
    """Inflate each page's content streams once, without keeping them, within the bounds."""
    total = 0
    for page in reader.pages:
        contents = page.get("/Contents")
        contents = contents.get_object() if contents is not None else None
        streams = contents if isinstance(contents, ArrayObject) else [contents]
        for entry in streams:
            stream = entry.get_object() if entry is not None else None
            if not isinstance(stream, StreamObject) or "/Filter" not in stream:
                continue
            try:
                total += len(decode_stream_data(stream))
            except LimitReachedError:
                raise
            except (PyPdfError, NotImplementedError, ValueError, zlib.error):
                # A damaged or exotic stream is the converter's business, as before this check.
                continue
            if total > CONTENT_MAX_INFLATED_BYTES:
                raise LimitReachedError(f"content streams inflate beyond {total} bytes")


def _check_images(reader: PdfReader) -> None:
    """Refuse an image XObject (also inside form XObjects) declaring too many pixels."""
    seen: set[int] = set()
    for page in reader.pages:
        resources = [page.get("/Resources")]
        while resources:
            entry = resources.pop()
            resource = entry.get_object() if entry is not None else None
            if not isinstance(resource, DictionaryObject):
                continue
            xobjects = resource.get("/XObject")
            xobjects = xobjects.get_object() if xobjects is not None else None
            if not isinstance(xobjects, DictionaryObject):
                continue
            for reference in xobjects.values():
                xobject = reference.get_object()
                if id(xobject) in seen or not isinstance(xobject, DictionaryObject):
                    continue
                seen.add(id(xobject))
                if xobject.get("/Subtype") == "/Image":
                    pixels = int(xobject.get("/Width", 0)) * int(xobject.get("/Height", 0))
                    if pixels > IMAGE_MAX_PIXELS:
                        raise LimitReachedError(f"an image declares {pixels} pixels")
                elif xobject.get("/Subtype") == "/Form":
                    resources.append(xobject.get("/Resources"))


def pdf_page_count(data: bytes | IO[bytes], *, max_pages: int) -> int:
    """The number of pages of an acceptable PDF, or PdfInvalid saying why it is refused.

    `data` may be an open file: pypdf then reads from it what it needs (the cross-reference
    table, the page tree, each page's content streams), never the whole file at once.
    """
    stream = _reader_stream(data) if isinstance(data, bytes) else data
    stream.seek(0)
    if stream.read(len(PDF_MAGIC)) != PDF_MAGIC:
        raise PdfInvalid(_("Ce fichier n’est pas un PDF."))
    stream.seek(0)
    try:
        with bounded_decompression():
            reader = PdfReader(stream)
            if reader.is_encrypted:
                raise PdfInvalid(
                    _(
                        "Ce PDF est protégé par un mot de passe ou chiffré : enregistrez-en une "
                        "copie sans protection, puis déposez-la."
                    )
                )
            pages = len(reader.pages)
            if 0 < pages <= max_pages:
                _check_content_streams(reader)
                _check_images(reader)
    except PdfInvalid:
        raise
    except LimitReachedError as error:
        logger.info("pdf refused, decompression limit: %s", error)
        raise PdfInvalid(
            _(
                "Ce PDF contient des données compressées démesurées une fois décompressées "
                "(bombe de décompression ?) : il est refusé."
            )
        ) from error
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
    reader = PdfReader(_reader_stream(data))
    writer = PdfWriter()
    for index in range(start, stop):
        writer.add_page(reader.pages[index])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
