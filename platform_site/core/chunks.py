"""Large files kept in PostgreSQL as rows of CHUNK_BYTES, written and read one row at a time.

Used for an uploaded PDF (latexocr's `PdfChunk`) and a prepared data export (the shell's
`AccountExportChunk`): any replica can read them, and no process ever holds the whole file
or sends it in one query (docs/performance.md). A chunk model has `seq` (from 0) and `data`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.db.models import QuerySet

# A row PostgreSQL and the driver handle without strain.
CHUNK_BYTES = 1024 * 1024


def chunks_store(*, file: IO[bytes], create: Callable[[int, bytes], object]) -> tuple[int, str]:
    """Write `file` from its start as chunks (`create(seq, data)` inserts one row); its size
    and SHA-256."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    seq = 0
    while chunk := file.read(CHUNK_BYTES):
        create(seq, chunk)
        digest.update(chunk)
        size += len(chunk)
        seq += 1
    return size, digest.hexdigest()


def chunks_read(rows: QuerySet[Any]) -> Iterator[bytes]:
    """The file whose chunks `rows` are, chunk by chunk, in order (one query per chunk, so one
    chunk is held at a time)."""
    seqs = list(rows.order_by("seq").values_list("seq", flat=True))
    for seq in seqs:
        yield bytes(rows.filter(seq=seq).values_list("data", flat=True).get())
