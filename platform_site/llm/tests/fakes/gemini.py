"""A fake Gemini API on 127.0.0.1, speaking enough of the real wire protocol for google-genai.

It answers `POST /{version}/models/{model}:generateContent` (inline PDF data or `fileData`
pointing at an uploaded file) and the Files API (resumable upload start + upload/finalize,
get, delete), so the real SDK, its HTTP client, our timeouts and our retries all run.

By default it answers with a plausible LaTeX document built from the PDF it received: one
`\\section*` per page, echoing the page's text layer, so that tests can check that page
ranges come back merged in order. Its answer time grows with the answer's length
(`seconds_per_1000_chars`), like a real model's. Tests script it with `FakeGemini.queue(...)`
(errors, finish reasons, token counts, delays; the faults of a proxy or a broken upstream:
`raw_body` answered with 200 as is, e.g. `Reply.html_page()` or `Reply.truncated_json()`,
and `trickle_s`, the body one byte at a time) and read what it received in `.requests`.

Used two ways: the `fake_gemini` pytest fixture (a thread in the test process, settings
pointed at it) and `python -m platform_site.llm.tests.fakes.gemini --port P`
(prints `READY <port>`).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfReader

from latexocr.tex.latex import latex_escape
from platform_site.llm.tests.fakes.server import FakeServer, QuietHandler

GENERATE_PATH = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+):generateContent$")
UPLOAD_PATH = re.compile(r"^/upload/(?P<version>[^/]+)/files$")
FILE_PATH = re.compile(r"^/(?P<version>[^/]+)/files/(?P<file_id>[^/]+)$")


@dataclass
class Reply:
    """One scripted answer to a generateContent call.

    `text=None` means the default answer built from the received PDF. `status` other than 200
    answers with Google's error JSON; `quota_id` adds a `google.rpc.QuotaFailure` detail
    (e.g. "GenerateRequestsPerDayPerProjectPerModel-FreeTier") and `retry_delay` a
    `google.rpc.RetryInfo` detail (e.g. "53s"). `delay_s` is waited before answering.
    """

    text: str | None = None
    finish_reason: str = "STOP"
    input_tokens: int | None = None
    output_tokens: int | None = None
    status: int = 200
    error_status: str | None = None
    error_message: str | None = None
    quota_id: str | None = None
    retry_delay: str | None = None
    delay_s: float = 0.0
    # Answered with 200 as is, instead of Google's JSON (a proxy's page, a cut body).
    raw_body: str | None = None
    raw_content_type: str = "application/json; charset=UTF-8"
    # Seconds between two bytes of the body (0: all at once).
    trickle_s: float = 0.0

    @classmethod
    def html_page(cls) -> Reply:
        return cls(
            raw_body="<html><body><h1>502 Bad Gateway</h1></body></html>",
            raw_content_type="text/html",
        )

    @classmethod
    def truncated_json(cls) -> Reply:
        return cls(raw_body='{"candidates": [{"content": {"role": "model", "parts": [{"te')


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    # For generateContent: the pages of the PDF that came with it (None: no PDF).
    pdf_pages: int | None = None
    model: str | None = None


@dataclass
class StoredFile:
    name: str
    mime_type: str
    expected_size: int
    data: bytearray = field(default_factory=bytearray)
    finalized: bool = False
    polls_left_processing: int = 0


ERROR_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class FakeGemini(FakeServer[Reply, ReceivedRequest]):
    """The server's state: scripted replies, uploaded files and every request received."""

    def __init__(
        self,
        *,
        port: int = 0,
        seconds_per_1000_chars: float = 0.0,
        api_key: str | None = None,
    ) -> None:
        super().__init__(_handler_for(self), port=port, default_reply=Reply)
        self.seconds_per_1000_chars = seconds_per_1000_chars
        # None accepts any non-empty key.
        self.api_key = api_key
        # A PDF with more pages than this gets a cut answer (finish reason MAX_TOKENS), like a
        # model reaching its output limit on a long range. None: never.
        self.max_pages_per_answer: int | None = None
        # Uploaded files stay PROCESSING for this many `get` calls before becoming ACTIVE.
        self.file_processing_polls = 0
        # Wrap default answers in ```latex fences, as models often do.
        self.fenced = False
        self.files: dict[str, StoredFile] = {}
        self.deleted_files: list[str] = []
        # generateContent calls being answered right now, and the most seen at once: a test of
        # parallel ranges counts overlap instead of timing the conversion on a busy machine.
        self.generating_now = 0
        self.most_generating_at_once = 0

    @property
    def url(self) -> str:
        return self.base_url

    def generation_wait(self, seconds: float) -> None:
        """A slow generateContent call, counted while it lasts."""
        with self._lock:
            self.generating_now += 1
            self.most_generating_at_once = max(self.most_generating_at_once, self.generating_now)
        try:
            self.wait(seconds)
        finally:
            with self._lock:
                self.generating_now -= 1

    def generate_requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(":generateContent")]

    def default_answer(self, pdf: bytes | None, prompt: str) -> tuple[str, str]:
        """A LaTeX document echoing each page's text; cut if the PDF has too many pages."""
        if pdf is None:
            return f"Réponse à : {prompt[:200]}", "STOP"
        reader = PdfReader(io.BytesIO(pdf))
        body = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip() or "(page sans texte)"
            escaped = latex_escape(text)
            body.append(
                f"\\section*{{Page {number}/{len(reader.pages)}}}\n{escaped}\n\n"
                f"\\begin{{equation}}\nx_{{{number}}} = {number}^2\n\\end{{equation}}\n"
            )
        document = (
            "\\documentclass[11pt]{article}\n"
            "\\usepackage[T1]{fontenc}\n"
            "\\usepackage[french]{babel}\n"
            "\\usepackage{amsmath}\n"
            "\\begin{document}\n\n" + "\n".join(body) + "\n\\end{document}\n"
        )
        if self.max_pages_per_answer is not None and len(reader.pages) > self.max_pages_per_answer:
            return document[: len(document) // 2], "MAX_TOKENS"
        if self.fenced:
            document = f"```latex\n{document}```\n"
        return document, "STOP"


def _snake_case_keys(value: Any) -> Any:
    """Google's JSON parser takes both `fileData` and `file_data`; the SDK 3.x sends the latter."""
    if isinstance(value, dict):
        return {
            re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower(): _snake_case_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_snake_case_keys(item) for item in value]
    return value


def _error_body(reply: Reply) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    if reply.quota_id:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_free_tier_requests",
                        "quotaId": reply.quota_id,
                        "quotaDimensions": {"location": "global", "model": "fake"},
                        "quotaValue": "20",
                    }
                ],
            }
        )
    if reply.retry_delay:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": reply.retry_delay}
        )
    error: dict[str, Any] = {
        "code": reply.status,
        "message": reply.error_message or f"Fake Gemini error {reply.status}.",
        "status": reply.error_status or ERROR_STATUS_NAMES.get(reply.status, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def _handler_for(fake: FakeGemini) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        # --- plumbing ---------------------------------------------------------------

        def _send(
            self,
            status: int,
            payload: Any = None,
            headers: dict[str, str] | None = None,
            *,
            raw: bytes | None = None,
            content_type: str = "application/json; charset=UTF-8",
            trickle_s: float = 0.0,
        ) -> None:
            data = (
                raw if raw is not None else b"" if payload is None else json.dumps(payload).encode()
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if trickle_s:
                self.write_trickling(data, seconds_per_byte=trickle_s, stopping=fake.stopping)
            else:
                self.wfile.write(data)

        def _key_refused(self) -> bool:
            key = self.headers.get("x-goog-api-key", "")
            if key and (fake.api_key is None or key == fake.api_key):
                return False
            self._send(
                400,
                _error_body(
                    Reply(
                        status=400,
                        error_message="API key not valid. Please pass a valid API key.",
                    )
                ),
            )
            return True

        def _record(self, body: Any, **extra: Any) -> None:
            fake.record(
                ReceivedRequest(
                    method=self.command,
                    path=urlsplit(self.path).path,
                    headers=dict(self.headers.items()),
                    body=body,
                    **extra,
                )
            )

        # --- routes -----------------------------------------------------------------

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if match := GENERATE_PATH.match(path):
                self._generate(match.group("version"), match.group("model"))
            elif match := UPLOAD_PATH.match(path):
                self._upload(match.group("version"))
            else:
                self.read_body()
                self._send(404, _error_body(Reply(status=404)))

        def do_GET(self) -> None:
            self._record(None)
            match = FILE_PATH.match(urlsplit(self.path).path)
            if not match:
                self._send(404, _error_body(Reply(status=404)))
                return
            if self._key_refused():
                return
            stored = fake.files.get(f"files/{match.group('file_id')}")
            if stored is None or not stored.finalized:
                self._send(404, _error_body(Reply(status=404)))
                return
            self._send(200, self._file_json(stored, match.group("version")))

        def do_DELETE(self) -> None:
            self._record(None)
            match = FILE_PATH.match(urlsplit(self.path).path)
            if not match:
                self._send(404, _error_body(Reply(status=404)))
                return
            if self._key_refused():
                return
            name = f"files/{match.group('file_id')}"
            if fake.files.pop(name, None) is None:
                self._send(404, _error_body(Reply(status=404)))
                return
            fake.deleted_files.append(name)
            self._send(200, {})

        def _file_json(self, stored: StoredFile, version: str) -> dict[str, Any]:
            state = "ACTIVE"
            if stored.polls_left_processing > 0:
                stored.polls_left_processing -= 1
                state = "PROCESSING"
            return {
                "name": stored.name,
                "mimeType": stored.mime_type,
                "sizeBytes": str(len(stored.data)),
                "uri": f"{fake.url}/{version}/{stored.name}",
                "state": state,
            }

        def _upload(self, version: str) -> None:
            raw = self.read_body()
            query = parse_qs(urlsplit(self.path).query)
            command = self.headers.get("X-Goog-Upload-Command", "")
            if "upload_id" not in query:
                # Start of a resumable upload: metadata in, upload URL out.
                self._record(_snake_case_keys(json.loads(raw or b"{}")))
                if self._key_refused():
                    return
                upload_id = uuid.uuid4().hex
                fake.files[f"pending/{upload_id}"] = StoredFile(
                    name=f"files/{uuid.uuid4().hex[:12]}",
                    mime_type=self.headers.get("X-Goog-Upload-Header-Content-Type", ""),
                    expected_size=int(self.headers.get("X-Goog-Upload-Header-Content-Length", 0)),
                    polls_left_processing=fake.file_processing_polls,
                )
                self._send(
                    200,
                    None,
                    {
                        "X-Goog-Upload-Status": "active",
                        "X-Goog-Upload-URL": (
                            f"{fake.url}/upload/{version}/files?upload_id={upload_id}"
                            "&upload_protocol=resumable"
                        ),
                    },
                )
                return
            self._record({"command": command, "bytes": len(raw)})
            pending_key = f"pending/{query['upload_id'][0]}"
            stored = fake.files.get(pending_key)
            offset = int(self.headers.get("X-Goog-Upload-Offset", -1))
            if stored is None or offset != len(stored.data):
                self._send(400, _error_body(Reply(status=400, error_message="Bad upload.")))
                return
            stored.data.extend(raw)
            if "finalize" not in command:
                self._send(200, None, {"X-Goog-Upload-Status": "active"})
                return
            del fake.files[pending_key]
            stored.finalized = True
            fake.files[stored.name] = stored
            self._send(
                200,
                {"file": self._file_json(stored, version)},
                {"X-Goog-Upload-Status": "final"},
            )

        def _generate(self, version: str, model: str) -> None:
            body = _snake_case_keys(json.loads(self.read_body() or b"{}"))
            pdf, prompt, missing_file = self._pdf_and_prompt(body)
            pages = None if pdf is None else len(PdfReader(io.BytesIO(pdf)).pages)
            self._record(body, pdf_pages=pages, model=model)
            if self._key_refused():
                return
            if missing_file:
                self._send(
                    400, _error_body(Reply(status=400, error_message="File not found or deleted."))
                )
                return
            reply = fake.next_reply()
            if reply.delay_s:
                fake.generation_wait(reply.delay_s)
            if reply.status != 200:
                self._send(reply.status, _error_body(reply))
                return
            if reply.raw_body is not None:
                self._send(
                    200,
                    raw=reply.raw_body.encode(),
                    content_type=reply.raw_content_type,
                    trickle_s=reply.trickle_s,
                )
                return
            if reply.text is None:
                text, finish_reason = fake.default_answer(pdf, prompt)
                if reply.finish_reason != "STOP":
                    finish_reason = reply.finish_reason
                    if finish_reason == "MAX_TOKENS":
                        text = text[: len(text) // 2]
            else:
                text, finish_reason = reply.text, reply.finish_reason
            fake.wait(fake.seconds_per_1000_chars * len(text) / 1000)
            candidate: dict[str, Any] = {"finishReason": finish_reason, "index": 0}
            if text:
                candidate["content"] = {"role": "model", "parts": [{"text": text}]}
            output_tokens = reply.output_tokens
            if output_tokens is None:
                output_tokens = max(1, len(text) // 4)
            input_tokens = reply.input_tokens
            if input_tokens is None:
                input_tokens = len(prompt) // 4 + 560 * (pages or 0)
            self._send(
                200,
                {
                    "candidates": [candidate],
                    "usageMetadata": {
                        "promptTokenCount": input_tokens,
                        "candidatesTokenCount": output_tokens,
                        "totalTokenCount": input_tokens + output_tokens,
                    },
                    "modelVersion": model,
                    "responseId": uuid.uuid4().hex,
                },
                trickle_s=reply.trickle_s,
            )

        def _pdf_and_prompt(self, body: dict[str, Any]) -> tuple[bytes | None, str, bool]:
            pdf: bytes | None = None
            prompt_parts: list[str] = []
            missing_file = False
            for content in body.get("contents", []):
                for part in content.get("parts", []):
                    if "text" in part:
                        prompt_parts.append(part["text"])
                    elif "inline_data" in part:
                        # Google accepts both base64 alphabets; the SDK sends the URL-safe one.
                        pdf = base64.urlsafe_b64decode(
                            part["inline_data"]["data"].replace("+", "-").replace("/", "_")
                        )
                    elif "file_data" in part:
                        name = "files/" + part["file_data"]["file_uri"].rsplit("/files/", 1)[-1]
                        stored = fake.files.get(name)
                        if stored is None:
                            missing_file = True
                        else:
                            pdf = bytes(stored.data)
            return pdf, "\n".join(prompt_parts), missing_file

    return Handler


@pytest.fixture
def fake_gemini(settings: Any) -> Iterator[FakeGemini]:
    """A running fake Gemini, with the site's settings pointed at it and tiny retry delays."""
    fake = FakeGemini()
    fake.start()
    settings.GEMINI_API_KEY = "fake-gemini-key"
    settings.GEMINI_BASE_URL = fake.url
    settings.GEMINI_RETRY_BASE_S = 0.01
    settings.GEMINI_RETRY_MAX_S = 0.05
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds-per-1000-chars", type=float, default=0.0)
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    arguments = parser.parse_args(argv)
    fake = FakeGemini(
        port=arguments.port,
        seconds_per_1000_chars=arguments.seconds_per_1000_chars,
        api_key=arguments.api_key,
    )
    fake.serve_from_command_line()


if __name__ == "__main__":
    main()
