"""A fake OpenAI-compatible model server on 127.0.0.1 (what vLLM, Ollama, LM Studio and
llama.cpp's server speak), for tests and benchmarks.

It answers `GET /v1/models` and `POST /v1/chat/completions`, non-streamed (one JSON body) and
streamed (`"stream": true`: server-sent events, one `chat.completion.chunk` per token, then
`data: [DONE]`), with text and `image_url` parts (data: URLs), so the real `openai` SDK, its
HTTP client, our timeouts, deadlines and retries all run.

By default a question with a Python teacher's system message gets the webhook fake's
LLM-shaped answer; a request with images gets a LaTeX document with one `\\section*` per image
naming its pixel size (so that tests can check that pages come back merged in order); any
other request gets "Réponse à : …". Its pace is `seconds_per_token` (each streamed token is
sent that long after the previous one; a non-streamed answer waits the whole sum first).
Tests script other outcomes with `FakeOpenAI.queue(Reply(...))` — an error status with the
OpenAI error JSON and headers (`Reply.rate_limited()` sends Retry-After), a raw malformed
body, a body trickled a few bytes at a time, a finish reason — and read `.requests`.

Used two ways: the `fake_openai` pytest fixture (a thread in the test process, settings
pointed at it) and `python -m platform_site.llm.tests.fakes.openai_compatible --port P`
(prints `READY <port>`).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest

from platform_site.llm.tests.fakes.server import FakeServer, QuietHandler
from platform_site.llm.tests.fakes.webhook import default_answer as python_answer

DEFAULT_MODELS = ("fake-coder", "fake-vision")
TOKEN = re.compile(r"\s*\S+|\s+")


@dataclass
class Reply:
    """One scripted answer to a chat completion.

    `text=None`: the default answer. `status` other than 200 answers with OpenAI's error JSON
    (`error_message`), plus `headers`. `raw_body` replaces the whole body as sent (malformed
    JSON, a truncated event stream). `trickle_s`: the body goes out 8 bytes at a time, this
    long apart. `delay_s` is waited before the headers.
    """

    text: str | None = None
    finish_reason: str = "stop"
    status: int = 200
    error_message: str = "fake error"
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: str | None = None
    trickle_s: float = 0.0
    delay_s: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1") -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls(status=429, error_message="Rate limit reached.", headers=headers)


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def images(self) -> list[bytes]:
        """The images of the request's user message, decoded, in order."""
        return [_image_bytes(part) for part in _parts(self.messages) if _is_image(part)]

    @property
    def text(self) -> str:
        return "\n".join(part["text"] for part in _parts(self.messages) if "text" in part)


def _parts(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append({"type": "text", "text": content})
        elif isinstance(content, list):
            parts.extend(part for part in content if isinstance(part, dict))
    return parts


def _is_image(part: dict[str, Any]) -> bool:
    return part.get("type") == "image_url"


def _image_bytes(part: dict[str, Any]) -> bytes:
    url = str(part.get("image_url", {}).get("url", ""))
    _header, _comma, data = url.partition(",")
    return base64.b64decode(data)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG, read from its header (no imaging library needed)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    index = 2
    while index < len(data) - 9:
        marker, length = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + length
    return 0, 0


class FakeOpenAI(FakeServer[Reply, ReceivedRequest]):
    """The server's state: scripted replies and every request received."""

    def __init__(
        self,
        *,
        port: int = 0,
        seconds_per_token: float = 0.0,
        api_key: str | None = None,
        models: tuple[str, ...] = DEFAULT_MODELS,
    ) -> None:
        super().__init__(_handler_for(self), port=port, default_reply=Reply)
        self.seconds_per_token = seconds_per_token
        # None: no key needed (Ollama); else `Authorization: Bearer <key>` or a 401.
        self.api_key = api_key
        self.models = models
        # A request with more images than this gets a cut answer (finish reason "length"),
        # like a model reaching max_tokens on a long range. None: never.
        self.max_images_per_answer: int | None = None

    @property
    def url(self) -> str:
        return f"{self.base_url}/v1"

    def chat_requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def default_answer(self, request: ReceivedRequest) -> tuple[str, str]:
        images = request.images
        if images:
            return self._latex_answer(images)
        system = " ".join(
            str(message.get("content", ""))
            for message in request.messages
            if message.get("role") == "system"
        )
        if "Python" in system:
            return python_answer(request.text), "stop"
        return f"Réponse à : {request.text[:200]}", "stop"

    def _latex_answer(self, images: list[bytes]) -> tuple[str, str]:
        body = []
        for number, image in enumerate(images, start=1):
            width, height = image_size(image)
            body.append(
                f"\\section*{{Image {number}/{len(images)}: {width}x{height}}}\n"
                f"\\begin{{equation}}\nx_{{{number}}} = {number}^2\n\\end{{equation}}\n"
            )
        document = (
            "\\documentclass[11pt]{article}\n"
            "\\usepackage[T1]{fontenc}\n"
            "\\usepackage[french]{babel}\n"
            "\\usepackage{amsmath}\n"
            "\\begin{document}\n\n" + "\n".join(body) + "\n\\end{document}\n"
        )
        if self.max_images_per_answer is not None and len(images) > self.max_images_per_answer:
            return document[: len(document) // 2], "length"
        return document, "stop"


def tokens(text: str) -> list[str]:
    """The text in word-sized pieces, the way a model streams it (joined, they give it back)."""
    return TOKEN.findall(text)


def _error_body(status: int, message: str) -> dict[str, Any]:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_exceeded",
    }
    return {
        "error": {
            "message": message,
            "type": kinds.get(status, "server_error"),
            "param": None,
            "code": None,
        }
    }


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _send_bytes(
            self,
            status: int,
            data: bytes,
            *,
            content_type: str = "application/json",
            headers: dict[str, str] | None = None,
            trickle_s: float = 0.0,
        ) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if not trickle_s:
                    self.wfile.write(data)
                    return
                for start in range(0, len(data), 8):
                    self.wfile.write(data[start : start + 8])
                    self.wfile.flush()
                    fake.wait(trickle_s)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its deadline), as with a real slow server

        def _send_json(self, status: int, payload: Any, **kwargs: Any) -> None:
            self._send_bytes(status, json.dumps(payload).encode(), **kwargs)

        def _key_refused(self) -> bool:
            if fake.api_key is None:
                return False
            if self.headers.get("Authorization", "") == f"Bearer {fake.api_key}":
                return False
            self._send_json(401, _error_body(401, "Incorrect API key provided."))
            return True

        def _record(self, body: Any) -> ReceivedRequest:
            request = ReceivedRequest(
                method=self.command,
                path=urlsplit(self.path).path,
                headers=dict(self.headers.items()),
                body=body,
            )
            fake.record(request)
            return request

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            self._record(None)
            if self._key_refused():
                return
            if path != "/v1/models":
                self._send_json(404, _error_body(404, f"No route {path}."))
                return
            models = [
                {"id": name, "object": "model", "created": 0, "owned_by": "fake"}
                for name in fake.models
            ]
            self._send_json(200, {"object": "list", "data": models})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            raw = self.read_body()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            request = self._record(body)
            if self._key_refused():
                return
            if path != "/v1/chat/completions" or not isinstance(body, dict):
                self._send_json(404, _error_body(404, f"No route {path}."))
                return
            model = str(body.get("model", ""))
            if model not in fake.models:
                self._send_json(404, _error_body(404, f"The model `{model}` does not exist."))
                return
            reply = fake.next_reply()
            fake.wait(reply.delay_s)
            if reply.status != 200:
                self._send_json(
                    reply.status,
                    _error_body(reply.status, reply.error_message),
                    headers=reply.headers,
                )
                return
            if reply.text is None:
                text, finish_reason = fake.default_answer(request)
            else:
                text, finish_reason = reply.text, reply.finish_reason
            if body.get("stream"):
                self._stream(reply, model, text, finish_reason, body)
            else:
                self._complete(reply, model, text, finish_reason, request)

        def _usage(self, reply: Reply, request_text: str, text: str) -> dict[str, int]:
            prompt = (
                reply.prompt_tokens if reply.prompt_tokens is not None else len(request_text) // 4
            )
            completion = (
                reply.completion_tokens
                if reply.completion_tokens is not None
                else len(tokens(text))
            )
            return {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }

        def _complete(
            self, reply: Reply, model: str, text: str, finish_reason: str, request: ReceivedRequest
        ) -> None:
            fake.wait(fake.seconds_per_token * len(tokens(text)))
            if reply.raw_body is not None:
                data = reply.raw_body.encode()
            else:
                data = json.dumps(
                    {
                        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": finish_reason,
                            }
                        ],
                        "usage": self._usage(reply, request.text, text),
                    }
                ).encode()
            self._send_bytes(200, data, headers=reply.headers, trickle_s=reply.trickle_s)

        def _stream(
            self, reply: Reply, model: str, text: str, finish_reason: str, body: dict[str, Any]
        ) -> None:
            completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"

            def chunk(delta: dict[str, Any], reason: str | None) -> bytes:
                payload = {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
                }
                return f"data: {json.dumps(payload)}\n\n".encode()

            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if reply.raw_body is not None:
                    self._write_chunk(reply.raw_body.encode(), reply.trickle_s)
                else:
                    self._write_chunk(chunk({"role": "assistant", "content": ""}, None), 0)
                    for piece in tokens(text):
                        fake.wait(fake.seconds_per_token)
                        self._write_chunk(chunk({"content": piece}, None), reply.trickle_s)
                    self._write_chunk(chunk({}, finish_reason), 0)
                    if (body.get("stream_options") or {}).get("include_usage"):
                        usage = {
                            "id": completion_id,
                            "object": "chat.completion.chunk",
                            "created": int(time.time()),
                            "model": model,
                            "choices": [],
                            "usage": self._usage(reply, "", text),
                        }
                        self._write_chunk(f"data: {json.dumps(usage)}\n\n".encode(), 0)
                    self._write_chunk(b"data: [DONE]\n\n", 0)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _write_chunk(self, data: bytes, trickle_s: float) -> None:
            pieces = [data] if not trickle_s else [data[i : i + 8] for i in range(0, len(data), 8)]
            for piece in pieces:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
                if trickle_s:
                    fake.wait(trickle_s)

    return Handler


@pytest.fixture
def fake_openai(settings: Any) -> Iterator[FakeOpenAI]:
    """A running fake model server, the site's settings pointed at it, tiny retry pauses."""
    fake = FakeOpenAI()
    fake.start()
    settings.OPENAI_BASE_URL = fake.url
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_RETRY_BASE_S = 0.01
    settings.OPENAI_RETRY_MAX_S = 0.05
    settings.CODEGEN_OPENAI_MODEL = "fake-coder"
    settings.LATEXOCR_OPENAI_MODEL = "fake-vision"
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seconds-per-token", type=float, default=0.0)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    arguments = parser.parse_args(argv)
    fake = FakeOpenAI(
        port=arguments.port,
        seconds_per_token=arguments.seconds_per_token,
        api_key=arguments.api_key,
    )
    fake.serve_from_command_line()


if __name__ == "__main__":
    main()
