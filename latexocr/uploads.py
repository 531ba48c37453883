"""An upload handler that keeps the PDF in memory and stops reading at the size limit.

Django enforces no maximum file size, and its default handlers spill uploads above 2.5 MB to
a temporary file (in a pod /tmp may be memory-backed anyway). This handler replaces them for
the upload view: it counts bytes as the body streams in and stops the upload as soon as the
limit is passed, so an oversize file is refused without being stored anywhere.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

from platform_site.slots import ProcessSlots

# Uploads read, checked and stored at once in this process: each holds its PDF in memory
# several times over (the body, the parser's objects, the INSERT), and ten 20 MB uploads at
# once took 1.8 GiB here against a 512 MiB pod. Beyond the limit an upload waits its turn,
# its body still in the socket.
upload_slots = ProcessSlots("LATEXOCR_MAX_CONCURRENT_UPLOADS")

# Room for the multipart boundaries and the other form fields around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class SizeLimitedMemoryUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.too_large = False
        self._buffer = io.BytesIO()
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
        self._buffer = io.BytesIO()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self.too_large = True
            self._buffer = io.BytesIO()
            # Stop reading now (the body may never end): the client may see the connection
            # close, but nothing more is read or kept.
            raise StopUpload(connection_reset=True)
        self._buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self._buffer.seek(0)
        return InMemoryUploadedFile(
            file=self._buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
