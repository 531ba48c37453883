"""An upload handler that streams the PDF to a spooled temporary file, hashing it on the way,
and stops reading at the size limit.

Django enforces no maximum file size. This handler replaces its handlers for the upload view:
it counts bytes as the body streams in and stops the upload as soon as the limit is passed,
so an oversize file is refused without being stored anywhere. Below the limit the PDF goes
to a `SpooledTemporaryFile`: in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), on disk
beyond, so ten 20 MB uploads at once do not sit in the web process's memory
(docs/performance.md). Its SHA-256 is computed chunk by chunk as it arrives, so nothing
reads the file again for it.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from platform_site.core.slots import ProcessSlots

# Uploads checked and stored at once in this process: each costs pypdf's parse of the PDF
# and a database write; beyond the limit an upload waits its turn.
upload_slots = ProcessSlots("LATEXOCR_MAX_CONCURRENT_UPLOADS")

# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class SpooledUploadedFile(UploadedFile):
    """An uploaded file held in a spooled temporary file, with the SHA-256 of its bytes."""

    def __init__(self, file: IO[bytes], *, sha256: str, **kwargs: Any) -> None:
        super().__init__(file=file, **kwargs)
        self.sha256 = sha256


class SizeLimitedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self._file: IO[bytes] | None = None
        self._hash = hashlib.sha256()
        self._received = 0

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile]] | None:
        # A declared length beyond the limit: refuse before reading a byte of the body, by
        # answering "no fields, no files" in the parser's place.
        if content_length > self.max_bytes + MULTIPART_OVERHEAD_BYTES:
            self.too_large = True
            return QueryDict(), MultiValueDict()
        return None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self._discard()
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed with the request)
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
            dir=settings.FILE_UPLOAD_TEMP_DIR,
            suffix=".upload.pdf",
        )
        self._hash = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.too_large = True
            self._discard()
            # Stop reading now (the body may never end): the client may see the connection
            # close, but nothing more is read or kept.
            raise StopUpload(connection_reset=True)
        self._current().write(raw_data)
        self._hash.update(raw_data)
        return None

    def file_complete(self, file_size: int) -> SpooledUploadedFile:
        file = self._current()
        file.seek(0)
        uploaded = SpooledUploadedFile(
            file=file,
            sha256=self._hash.hexdigest(),
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
        # The request closes (and so deletes) its uploaded files when it ends.
        self._file = None
        return uploaded

    def upload_interrupted(self) -> None:
        self._discard()

    def _current(self) -> IO[bytes]:
        if self._file is None:
            raise RuntimeError("the upload handler got data before new_file()")
        return self._file

    def _discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
