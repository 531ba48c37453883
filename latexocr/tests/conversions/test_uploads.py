from __future__ import annotations

import hashlib
import tempfile

import pytest
from django.core.files.uploadhandler import StopUpload
from django.test import RequestFactory, override_settings

from latexocr.conversions.uploads import MULTIPART_OVERHEAD_BYTES, SizeLimitedUploadHandler


def handler(max_bytes: int) -> SizeLimitedUploadHandler:
    upload_handler = SizeLimitedUploadHandler(RequestFactory().post("/"), max_bytes=max_bytes)
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
    assert upload_handler._file is None


def test_a_body_within_the_limit_becomes_a_file_with_its_sha256() -> None:
    upload_handler = handler(10)
    upload_handler.receive_data_chunk(b"%PD", 0)
    upload_handler.receive_data_chunk(b"F-", 3)

    uploaded = upload_handler.file_complete(5)

    assert uploaded.read() == b"%PDF-"
    assert uploaded.name == "td1.pdf"
    assert uploaded.sha256 == hashlib.sha256(b"%PDF-").hexdigest()
    assert not upload_handler.too_large


@override_settings(FILE_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_beyond_the_memory_size_goes_to_disk_not_to_memory() -> None:
    upload_handler = handler(10_000)
    for start in range(0, 5000, 500):
        upload_handler.receive_data_chunk(b"x" * 500, start)

    uploaded = upload_handler.file_complete(5000)

    spooled = uploaded.file
    assert isinstance(spooled, tempfile.SpooledTemporaryFile)
    # On disk: the process holds none of its 5000 bytes.
    assert spooled._rolled  # type: ignore[attr-defined]
    assert uploaded.read() == b"x" * 5000
