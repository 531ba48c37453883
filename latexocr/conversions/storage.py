"""The uploaded PDF of a conversion, stored in PostgreSQL in chunks and read back in chunks.

One `PdfChunk` row per CHUNK_BYTES slice, inserted one at a time from the open upload: the
web process holds one chunk (plus the driver's copy of it) at a time, not the whole PDF,
whatever the file's size (docs/performance.md). Readers stream the chunks back in order.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterator
from typing import IO

from latexocr.models import Conversion, PdfChunk
from platform_site.core.chunks import CHUNK_BYTES, chunks_read, chunks_store

# Above this a PDF read back for a reader that wants a file goes to disk.
SPOOL_MAX_MEMORY_BYTES = 2_500_000


def pdf_store(*, conversion: Conversion, pdf: IO[bytes]) -> tuple[int, str]:
    """Write `pdf` (from its start) as the conversion's chunks; its size and SHA-256."""
    return chunks_store(
        file=pdf,
        create=lambda seq, data: PdfChunk.objects.create(conversion=conversion, seq=seq, data=data),
    )


def pdf_sha256(pdf: IO[bytes]) -> str:
    """The SHA-256 of an open file, read chunk by chunk from its start (left at its start)."""
    pdf.seek(0)
    digest = hashlib.sha256()
    while chunk := pdf.read(CHUNK_BYTES):
        digest.update(chunk)
    pdf.seek(0)
    return digest.hexdigest()


def pdf_chunks(*, conversion_id: uuid.UUID | str) -> Iterator[bytes]:
    """The conversion's PDF, chunk by chunk, in order (one query per chunk)."""
    return chunks_read(PdfChunk.objects.filter(conversion_id=conversion_id))


def pdf_open(*, conversion_id: uuid.UUID | str) -> IO[bytes]:
    """The conversion's PDF as a file positioned at its start (on disk beyond 2.5 MB)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY_BYTES)  # noqa: SIM115
    for chunk in pdf_chunks(conversion_id=conversion_id):
        spooled.write(chunk)
    spooled.seek(0)
    return spooled


def pdf_read(*, conversion_id: uuid.UUID | str) -> bytes:
    """The conversion's whole PDF, for the backends that send it in one piece (the worker)."""
    buffer = io.BytesIO()
    for chunk in pdf_chunks(conversion_id=conversion_id):
        buffer.write(chunk)
    return buffer.getvalue()
