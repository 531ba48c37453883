from __future__ import annotations

import hashlib
import io

import pytest

from accounts.tests.factories import UserFactory
from latexocr.conversions.services import conversion_create
from latexocr.conversions.storage import pdf_chunks, pdf_open, pdf_read
from latexocr.models import PdfChunk
from latexocr.tests.factories import ConversionFactory
from tests.pdfs import pdf_with_text

pytestmark = pytest.mark.django_db


def test_a_conversion_created_from_a_file_stores_it_in_chunks_with_its_size_and_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("platform_site.core.chunks.CHUNK_BYTES", 1000)
    pdf = pdf_with_text(["page un"])

    conversion = conversion_create(
        owner=UserFactory.create(),
        pdf=io.BytesIO(pdf),
        original_filename="td.pdf",
        page_count=1,
    )

    conversion.refresh_from_db()
    assert conversion.size_bytes == len(pdf)
    assert conversion.sha256 == hashlib.sha256(pdf).hexdigest()
    assert PdfChunk.objects.filter(conversion=conversion).count() == -(-len(pdf) // 1000)
    assert pdf_read(conversion_id=conversion.pk) == pdf


def test_the_chunks_come_back_in_order_whatever_the_insertion_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("platform_site.core.chunks.CHUNK_BYTES", 3)
    conversion = ConversionFactory.create(pdf=b"abcdefgh")

    assert PdfChunk.objects.filter(conversion=conversion).count() == 3
    assert list(pdf_chunks(conversion_id=conversion.pk)) == [b"abc", b"def", b"gh"]
    assert pdf_read(conversion_id=conversion.pk) == b"abcdefgh"
    assert pdf_open(conversion_id=conversion.pk).read() == b"abcdefgh"


def test_deleting_a_conversion_deletes_its_chunks() -> None:
    conversion = ConversionFactory.create()

    conversion.delete()

    assert not PdfChunk.objects.exists()
