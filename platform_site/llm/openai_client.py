"""The one door to OpenAI-compatible model servers (vLLM, Ollama, LM Studio, llama.cpp's server).

Both tools may run on a model server the university hosts itself (`CODEGEN_BACKEND=openai`,
`LATEXOCR_BACKEND=openai`); the address and key come in a `Connection`. Only this module
imports the `openai` SDK and knows its error shapes. It owns:

- the timeouts: each attempt gets `timeout_s`, and the whole call (attempts and pauses
  together) ends by its total deadline. The SDK's timeouts only bound each network read, so a
  server trickling its body a few bytes at a time would hold a thread forever: the call runs
  under platform_site.llm.deadline, which cuts its connection when the time is up;
- which failures are worth another attempt (the SDK's own retries are off): 408, 429, 5xx,
  lost connections, timeouts and malformed bodies, with the server's `Retry-After`; the
  waiting itself is platform_site.llm.retry's;
- the shape of what comes back: an `Answer`, streamed pieces of one (`chat_stream`), or an
  `LlmError` of one of the shared kinds (platform_site.llm.errors), the server's words kept
  as the staff detail.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx2
import openai

from platform_site.llm.deadline import CallDeadline, call_deadline
from platform_site.llm.errors import (
    BLOCKED,
    MALFORMED,
    NOT_CONFIGURED,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNREACHABLE,
    Answer,
    Image,
    LlmError,
)
from platform_site.llm.retry import (
    RETRYABLE_STATUSES,
    Retryable,
    RetryPolicy,
    retry_after_s,
    with_retries,
)

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
# Servers without keys (Ollama, a default vLLM) ignore the header; the SDK insists on one.
PLACEHOLDER_API_KEY = "no-key"


@dataclass(frozen=True)
class Connection:
    """Where the model server is (filled by platform_site.llm.registry)."""

    base_url: str
    api_key: str = ""
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0


def models_list(*, connection: Connection, timeout_s: float) -> list[str]:
    """The model names the server offers (`GET /models`), for the operator's check."""
    client = _client(connection)

    def attempt() -> list[str]:
        with call_deadline(timeout_s) as watch, _cut_at(watch, timeout_s):
            page = client.models.list(timeout=_timeout(timeout_s, timeout_s))
            return sorted(str(model.id) for model in page.data)

    deadline = time.monotonic() + timeout_s
    return _with_retries(attempt, connection=connection, attempts=1, deadline=deadline)


def chat(
    *,
    connection: Connection,
    model: str,
    prompt: str,
    system: str | None = None,
    images: Sequence[Image] = (),
    max_tokens: int | None = None,
    timeout_s: float,
    attempts: int = 1,
    deadline_s: float | None = None,
) -> Answer:
    """Ask `model` once (up to `attempts` tries), with optional images after the prompt.

    `timeout_s` bounds each attempt; `deadline_s` (default: `timeout_s` per attempt) bounds
    the whole call, pauses included.
    """
    client = _client(connection, model=model)
    messages = _messages(prompt=prompt, system=system, images=images)
    total_s = deadline_s if deadline_s is not None else timeout_s * max(1, attempts)
    deadline = time.monotonic() + total_s

    def attempt() -> Answer:
        remaining = deadline - time.monotonic()
        with call_deadline(min(timeout_s, remaining)) as watch, _cut_at(watch, total_s):
            completion = client.chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=max_tokens,
                timeout=_timeout(timeout_s, remaining),
            )
            return _answer_from(completion, model)

    return _with_retries(attempt, connection=connection, attempts=attempts, deadline=deadline)


class ChatStream:
    """The answer as it comes: iterate for the text pieces; `answer` is set once it is whole.

    Retries happen only before the first piece (a refused or failed request); once text has
    been handed out, a failure ends the stream with the error.
    """

    def __init__(
        self,
        *,
        connection: Connection,
        model: str,
        prompt: str,
        system: str | None,
        timeout_s: float,
        attempts: int,
    ) -> None:
        self._connection = connection
        self._client = _client(connection, model=model)
        self._model = model
        self._messages = _messages(prompt=prompt, system=system, images=())
        self._timeout_s = timeout_s
        self._attempts = attempts
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        # One clock for the whole answer, retries of the request included.
        watch = CallDeadline(self._timeout_s)
        watch.start()
        try:
            yield from self._pieces(watch)
        finally:
            watch.cancel()

    def _pieces(self, watch: CallDeadline) -> Iterator[str]:
        ends = time.monotonic() + self._timeout_s
        with watch.watching():
            stream: Any = _with_retries(
                lambda: self._open(watch, ends),
                connection=self._connection,
                attempts=self._attempts,
                deadline=ends,
            )
        pieces: list[str] = []
        finish_reason = ""
        usage: Any = None
        served_model = self._model
        try:
            with _cut_at(watch, self._timeout_s):
                for chunk in stream:
                    served_model = str(getattr(chunk, "model", "") or served_model)
                    usage = getattr(chunk, "usage", None) or usage
                    for choice in getattr(chunk, "choices", None) or []:
                        delta = getattr(choice, "delta", None)
                        piece = getattr(delta, "content", None)
                        if isinstance(piece, str) and piece:
                            pieces.append(piece)
                            yield piece
                        if getattr(choice, "finish_reason", None):
                            finish_reason = str(choice.finish_reason)
        except Retryable as failure:
            # Text may already be on its way to the user: no second attempt now.
            raise failure.final from failure.__cause__
        finally:
            stream.close()
        if watch.expired:
            raise _timeout_error(self._timeout_s)  # cut mid-stream: the answer is not whole
        if not finish_reason:
            raise LlmError(
                MALFORMED, "The event stream ended without a finish reason.", status_code=200
            )
        self.answer = _checked_answer(
            text="".join(pieces),
            finish_reason=finish_reason,
            usage=usage,
            model=served_model,
        )

    def _open(self, watch: CallDeadline, ends: float) -> Any:
        with _cut_at(watch, self._timeout_s):
            return self._client.chat.completions.create(
                model=self._model,
                messages=self._messages,
                stream=True,
                stream_options={"include_usage": True},
                timeout=_timeout(self._timeout_s, ends - time.monotonic()),
            )


def chat_stream(
    *,
    connection: Connection,
    model: str,
    prompt: str,
    system: str | None = None,
    timeout_s: float,
    attempts: int = 1,
) -> ChatStream:
    """A streamed answer (`"stream": true`); `timeout_s` bounds the whole of it."""
    return ChatStream(
        connection=connection,
        model=model,
        prompt=prompt,
        system=system,
        timeout_s=timeout_s,
        attempts=attempts,
    )


# --- the client ------------------------------------------------------------------------


def _client(connection: Connection, *, model: str | None = None) -> openai.OpenAI:
    if not connection.base_url or (model is not None and not model):
        raise LlmError(NOT_CONFIGURED, "OPENAI_BASE_URL or the model name is not set.")
    return _cached_client(connection.base_url, connection.api_key or PLACEHOLDER_API_KEY)


@lru_cache(maxsize=4)
def _cached_client(base_url: str, api_key: str) -> openai.OpenAI:
    # One client per address and key, shared by every thread. No keep-alive: each call opens
    # its own connection, which its total deadline can watch and cut (platform_site.llm.deadline).
    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=0,
        http_client=httpx2.Client(limits=httpx2.Limits(max_keepalive_connections=0)),
    )


def _timeout(timeout_s: float, remaining_s: float) -> httpx2.Timeout:
    read = max(0.01, min(timeout_s, remaining_s))
    return httpx2.Timeout(read, connect=min(CONNECT_TIMEOUT_S, read))


def _messages(*, prompt: str, system: str | None, images: Sequence[Image]) -> list[Any]:
    messages: list[Any] = []
    if system:
        messages.append({"role": "system", "content": system})
    if not images:
        messages.append({"role": "user", "content": prompt})
        return messages
    parts: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    for image in images:
        encoded = base64.b64encode(image.data).decode("ascii")
        parts.append(
            {"type": "image_url", "image_url": {"url": f"data:{image.mime_type};base64,{encoded}"}}
        )
    messages.append({"role": "user", "content": parts})
    return messages


def _answer_from(completion: Any, model: str) -> Answer:
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise Retryable(LlmError(MALFORMED, "A completion without choices.", status_code=200))
    choice = choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    finish_reason = getattr(choice, "finish_reason", None)
    if not isinstance(text, str) or not finish_reason:
        raise Retryable(
            LlmError(MALFORMED, "A completion without text or finish reason.", status_code=200)
        )
    return _checked_answer(
        text=text,
        finish_reason=str(finish_reason),
        usage=getattr(completion, "usage", None),
        model=str(getattr(completion, "model", "") or model),
    )


def _checked_answer(*, text: str, finish_reason: str, usage: Any, model: str) -> Answer:
    if finish_reason == "content_filter":
        raise LlmError(BLOCKED, "Answer stopped by a content filter.")
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    return Answer(
        text=text,
        finish_reason=finish_reason,
        truncated=finish_reason == "length",
        input_tokens=prompt_tokens if isinstance(prompt_tokens, int) else None,
        output_tokens=completion_tokens if isinstance(completion_tokens, int) else None,
        model=model,
    )


class _translated_errors:
    """Turn the SDK's and the HTTP client's exceptions into ours, marking the retryable ones."""

    def __init__(self, total_s: float) -> None:
        self._total_s = total_s

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: object
    ) -> None:
        if error is None or isinstance(error, LlmError | Retryable):
            return
        translated = self._translate(error)
        if translated is not None:
            raise translated from error

    def _translate(self, error: BaseException) -> Exception | None:
        timeout = LlmError(TIMEOUT, f"The model server did not answer within {self._total_s:g} s.")
        if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
            return Retryable(timeout)
        if isinstance(error, openai.APIStatusError):
            return _status_error(error)
        if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
            return Retryable(
                LlmError(UNREACHABLE, f"Connection to the model server failed: {error!r}")
            )
        if isinstance(error, openai.APIError | ValueError):
            # A body that is not JSON, an event that is not, an error event mid-stream.
            return Retryable(LlmError(MALFORMED, f"Malformed answer: {error}", status_code=200))
        return None


def _timeout_error(total_s: float) -> LlmError:
    return LlmError(TIMEOUT, f"The model server did not answer within {total_s:g} s.")


@contextmanager
def _cut_at(watch: CallDeadline, total_s: float) -> Iterator[None]:
    """Translate the SDK's errors; once `watch` has expired, whatever broke was the deadline
    cutting the connection: a timeout."""
    try:
        with _translated_errors(total_s):
            yield
    except (LlmError, Retryable) as error:
        if watch.expired:
            raise Retryable(_timeout_error(total_s)) from error
        raise


def _status_error(error: openai.APIStatusError) -> Exception:
    code = error.status_code
    description = f"The model server answered {code}: {error.message}"
    if code in RETRYABLE_STATUSES:
        kind = {408: TIMEOUT, 429: RATE_LIMITED}.get(code, UNREACHABLE)
        final = LlmError(kind, description, status_code=code)
        return Retryable(final, server_delay_s=retry_after_s(error.response.headers))
    if 400 <= code < 500:
        return LlmError(REJECTED, description, status_code=code)
    return LlmError(UNREACHABLE, description, status_code=code)


def _with_retries[Result](
    attempt: Callable[[], Result], *, connection: Connection, attempts: int, deadline: float
) -> Result:
    """Run `attempt` up to `attempts` times within `deadline`, backing off between them."""
    policy = RetryPolicy(
        attempts=attempts,
        base_delay_s=connection.retry_base_s,
        max_delay_s=connection.retry_max_s,
        deadline=deadline,
    )
    return with_retries(attempt, policy=policy, label="model server")
