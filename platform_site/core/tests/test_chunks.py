from __future__ import annotations

import hashlib
import io

import pytest

from latexocr.models import PdfChunk
from latexocr.tests.factories import ConversionFactory
from platform_site.core.chunks import chunks_read, chunks_store

pytestmark = pytest.mark.django_db


def test_a_file_goes_in_chunks_and_comes_back_whole_with_its_size_and_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("platform_site.core.chunks.CHUNK_BYTES", 4)
    conversion = ConversionFactory.create(pdf=b"")
    content = b"0123456789"

    size, sha256 = chunks_store(
        file=io.BytesIO(content),
        create=lambda seq, data: PdfChunk.objects.create(conversion=conversion, seq=seq, data=data),
    )

    assert (size, sha256) == (10, hashlib.sha256(content).hexdigest())
    rows = PdfChunk.objects.filter(conversion=conversion)
    assert rows.count() == 3
    assert list(chunks_read(rows)) == [b"0123", b"4567", b"89"]


def test_an_empty_file_makes_no_chunk() -> None:
    created: list[int] = []

    size, _ = chunks_store(file=io.BytesIO(b""), create=lambda seq, data: created.append(seq))

    assert (size, created) == (0, [])
