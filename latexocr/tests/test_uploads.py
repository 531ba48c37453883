from __future__ import annotations

import pytest
from django.core.files.uploadhandler import StopUpload
from django.test import RequestFactory

from latexocr.uploads import MULTIPART_OVERHEAD_BYTES, SizeLimitedMemoryUploadHandler


def handler(max_bytes: int) -> SizeLimitedMemoryUploadHandler:
    upload_handler = SizeLimitedMemoryUploadHandler(RequestFactory().post("/"), max_bytes=max_bytes)
    upload_handler.new_file("pdf", "td1.pdf", "application/pdf", None)
    return upload_handler


def test_a_declared_length_over_the_limit_is_refused_before_reading_the_body() -> None:
    upload_handler = handler(1000)

    result = upload_handler.handle_raw_input(
        None, {}, 1000 + MULTIPART_OVERHEAD_BYTES + 1, "boundary"
    )

    assert result is not None
    assert (dict(result[0]), dict(result[1])) == ({}, {})
    assert upload_handler.too_large


def test_a_body_over_the_limit_stops_the_upload_and_keeps_nothing() -> None:
    upload_handler = handler(10)
    upload_handler.receive_data_chunk(b"x" * 8, 0)

    with pytest.raises(StopUpload):
        upload_handler.receive_data_chunk(b"x" * 8, 8)

    assert upload_handler.too_large
    assert upload_handler._buffer.getvalue() == b""


def test_a_body_within_the_limit_becomes_an_in_memory_file() -> None:
    upload_handler = handler(10)
    upload_handler.receive_data_chunk(b"%PDF-", 0)

    uploaded = upload_handler.file_complete(5)

    assert uploaded.read() == b"%PDF-"
    assert uploaded.name == "td1.pdf"
    assert not upload_handler.too_large
