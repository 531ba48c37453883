"""The one door to OpenAI-compatible model servers (vLLM, Ollama, LM Studio, llama.cpp's server).

Both tools may run on a model server the university hosts itself (`CODEGEN_BACKEND=openai`,
`LATEXOCR_BACKEND=openai`); only this module imports the `openai` SDK and knows its error
shapes. It owns:

- the timeouts: each attempt gets `timeout_s`, and the whole call (attempts and pauses
  together) ends by its total deadline. The SDK's timeouts only bound each network read, so a
  server trickling its body a few bytes at a time would hold a thread forever; the HTTP
  transport below checks the deadline after every read and ends the call when it passes;
- the retries (the SDK's own are off): 408, 429, 5xx, lost connections, timeouts and malformed
  bodies get another attempt after an exponential back-off with jitter, or after the server's
  `Retry-After` when it asks for longer — unless that wait would pass the deadline;
- the shape of what comes back: a `ChatAnswer`, streamed pieces of one (`chat_stream`), or one
  of the `ModelServerError`s below, each of which carries what the user reads (`failure`,
  worded in the reader's language when shown);
- whether it is configured (`configured`).
"""

from __future__ import annotations

import base64
import contextvars
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import httpx2
import openai
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platform_site.core.failures import Failure, FailureKind, failure_kind

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Servers without keys (Ollama, a default vLLM) ignore the header; the SDK insists on one.
PLACEHOLDER_API_KEY = "no-key"


# What the user reads about each failure (translated when shown, see platform_site.core.failures).
# `charged`: whether the server did (paid) work before the failure; only its answers cost.
ERROR = failure_kind(
    "openai.error",
    _("Le serveur de modèles n’a pas pu répondre."),
    retry=True,
    charged=False,
)
NOT_CONFIGURED = failure_kind(
    "openai.not_configured",
    _("Le serveur de modèles n’est pas configuré sur ce site : prévenez l’équipe."),
    retry=False,
    charged=False,
)
TIMEOUT = failure_kind(
    "openai.timeout",
    _("Le serveur de modèles n’a pas répondu dans les %(seconds)s secondes prévues."),
    retry=True,
    charged=False,
)
UNREACHABLE = failure_kind(
    "openai.unreachable",
    _("Le serveur de modèles est injoignable pour le moment."),
    retry=True,
    charged=False,
)
BUSY = failure_kind(
    "openai.busy",
    _("Le serveur de modèles est saturé : réessayez dans un instant."),
    retry=True,
    charged=False,
)
UPSTREAM = failure_kind(
    "openai.upstream",
    _("Le serveur de modèles a répondu par une erreur (%(status)s)."),
    retry=True,
    charged=False,
)
REJECTED = failure_kind(
    "openai.rejected",
    _(
        "Le serveur de modèles a refusé la demande (configuration du site à vérifier) : "
        "prévenez l’équipe si cela se reproduit."
    ),
    retry=False,
    charged=False,
)
MALFORMED = failure_kind(
    "openai.malformed",
    _("Le serveur de modèles a renvoyé une réponse illisible."),
    retry=True,
    charged=False,
)
BLOCKED = failure_kind(
    "openai.blocked",
    _("Le modèle a refusé de répondre à cette demande."),
    retry=False,
    charged=True,
)
ANSWER_CUT = failure_kind(
    "openai.answer_cut",
    _("La réponse du modèle a été coupée (limite de longueur) : reformulez plus court."),
    retry=False,
    charged=True,
)
ANSWER_EMPTY = failure_kind(
    "openai.answer_empty",
    _("Le modèle a répondu sans aucun texte."),
    retry=True,
    charged=True,
)


class ModelServerError(Exception):
    """Any failure to get an answer from the model server. `str()` is for the logs;
    `failure` is what is recorded and shown (worded in the reader's language when shown)."""

    kind: FailureKind = ERROR

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self))

    def user_message(self) -> str:
        return self.failure.message


class ModelServerNotConfigured(ModelServerError):
    """No server address or no model name: this backend cannot run."""

    kind = NOT_CONFIGURED


class ModelServerTimeout(ModelServerError):
    """No complete answer before the deadline."""

    kind = TIMEOUT

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self), seconds=f"{self.seconds:g}")


class ModelServerUpstreamError(ModelServerError):
    """The server answered with an error status (None: the connection itself failed)."""

    kind = UPSTREAM

    def __init__(self, message: str, *, status_code: int | None) -> None:
        super().__init__(message)
        self.status_code = status_code

    @property
    def failure(self) -> Failure:
        if self.status_code is None:
            return UNREACHABLE.failure(detail=str(self))
        if self.status_code == 429:
            return BUSY.failure(detail=str(self))
        return self.kind.failure(detail=str(self), status=self.status_code)


class ModelServerRejected(ModelServerUpstreamError):
    """The server refused the request itself (key, unknown model, bad input): never retried."""

    kind = REJECTED

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self))


class ModelServerMalformed(ModelServerUpstreamError):
    """The server answered 200 with something that is not a chat completion."""

    kind = MALFORMED

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self))


class ModelServerBlocked(ModelServerError):
    """The model stopped on a content filter."""

    kind = BLOCKED

    def __init__(self, message: str, *, finish_reason: str) -> None:
        super().__init__(message)
        self.finish_reason = finish_reason


class ModelAnswerUnusable(ModelServerError):
    """The server answered, but with no text (or one cut by max_tokens, see ModelAnswerCut)."""

    kind = ANSWER_EMPTY


class ModelAnswerCut(ModelAnswerUnusable):
    kind = ANSWER_CUT


@dataclass(frozen=True)
class Image:
    data: bytes
    mime_type: str  # image/png or image/jpeg


@dataclass(frozen=True)
class ChatAnswer:
    text: str
    finish_reason: str
    # True when max_tokens cut the answer: the text is incomplete and must not be used whole.
    truncated: bool
    input_tokens: int | None
    output_tokens: int | None
    model: str


def answer_text(answer: ChatAnswer) -> str:
    """The answer's whole text, or ModelAnswerCut / ModelAnswerUnusable if it cannot serve."""
    if answer.truncated:
        raise ModelAnswerCut(f"Answer cut by max_tokens ({answer.finish_reason}).")
    if not answer.text.strip():
        raise ModelAnswerUnusable(f"Answer without text ({answer.finish_reason}).")
    return answer.text


class _Retryable(Exception):
    """An attempt that failed in a way another attempt may fix."""

    def __init__(self, final: ModelServerError, *, server_delay_s: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.server_delay_s = server_delay_s


def configured(*, model: str) -> bool:
    """Whether a server address and `model` are set (the pages explain it when not)."""
    return bool(settings.OPENAI_BASE_URL and model)


def models_list(*, timeout_s: float) -> list[str]:
    """The model names the server offers (`GET /models`), for the operator's check."""
    client = _client()

    def attempt() -> list[str]:
        with _deadline(timeout_s), _translated_errors(timeout_s):
            page = client.models.list(timeout=_timeout(timeout_s, timeout_s))
            return sorted(str(model.id) for model in page.data)

    deadline = time.monotonic() + timeout_s
    return _with_retries(attempt, attempts=1, deadline=deadline, total_s=timeout_s)


def chat(
    *,
    model: str,
    prompt: str,
    system: str | None = None,
    images: Sequence[Image] = (),
    max_tokens: int | None = None,
    timeout_s: float,
    attempts: int = 1,
    deadline_s: float | None = None,
) -> ChatAnswer:
    """Ask `model` once (up to `attempts` tries), with optional images after the prompt.

    `timeout_s` bounds each attempt; `deadline_s` (default: `timeout_s` per attempt) bounds
    the whole call, pauses included.
    """
    client = _client(model=model)
    messages = _messages(prompt=prompt, system=system, images=images)
    total_s = deadline_s if deadline_s is not None else timeout_s * max(1, attempts)
    deadline = time.monotonic() + total_s

    def attempt() -> ChatAnswer:
        remaining = deadline - time.monotonic()
        with _deadline(min(timeout_s, remaining)), _translated_errors(total_s):
            completion = client.chat.completions.create(
                model=model,
                messages=messages,
                max_tokens=max_tokens,
                timeout=_timeout(timeout_s, remaining),
            )
            return _answer_from(completion, model)

    return _with_retries(attempt, attempts=attempts, deadline=deadline, total_s=total_s)


class ChatStream:
    """The answer as it comes: iterate for the text pieces; `answer` is set once it is whole.

    Retries happen only before the first piece (a refused or failed request); once text has
    been handed out, a failure ends the stream with the error.
    """

    def __init__(
        self,
        *,
        model: str,
        prompt: str,
        system: str | None,
        timeout_s: float,
        attempts: int,
    ) -> None:
        self._client = _client(model=model)
        self._model = model
        self._messages = _messages(prompt=prompt, system=system, images=())
        self._timeout_s = timeout_s
        self._attempts = attempts
        self.answer: ChatAnswer | None = None

    def __iter__(self) -> Iterator[str]:
        deadline = time.monotonic() + self._timeout_s
        # The transport reads the deadline when the request goes out and checks the body
        # against it: no context variable stays set across the yields below.
        with _deadline(self._timeout_s):
            stream: Any = _with_retries(
                self._open, attempts=self._attempts, deadline=deadline, total_s=self._timeout_s
            )
        pieces: list[str] = []
        finish_reason = ""
        usage: Any = None
        served_model = self._model
        try:
            with _translated_errors(self._timeout_s):
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
        except _Retryable as failure:
            # Text may already be on its way to the user: no second attempt now.
            raise failure.final from failure.__cause__
        finally:
            stream.close()
        if not finish_reason:
            raise ModelServerMalformed(
                "The event stream ended without a finish reason.", status_code=200
            )
        self.answer = _checked_answer(
            text="".join(pieces),
            finish_reason=finish_reason,
            usage=usage,
            model=served_model,
        )

    def _open(self) -> Any:
        remaining = self._deadline_left()
        with _translated_errors(self._timeout_s):
            return self._client.chat.completions.create(
                model=self._model,
                messages=self._messages,
                stream=True,
                stream_options={"include_usage": True},
                timeout=_timeout(self._timeout_s, remaining),
            )

    def _deadline_left(self) -> float:
        deadline = _DEADLINE.get()
        return self._timeout_s if deadline is None else deadline - time.monotonic()


def chat_stream(
    *, model: str, prompt: str, system: str | None = None, timeout_s: float, attempts: int = 1
) -> ChatStream:
    """A streamed answer (`"stream": true`); `timeout_s` bounds the whole of it."""
    return ChatStream(
        model=model, prompt=prompt, system=system, timeout_s=timeout_s, attempts=attempts
    )


# --- the client and its transport ----------------------------------------------------------

# The moment the call in progress on this thread must end by (time.monotonic()).
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "openai_deadline", default=None
)


class _DeadlineBody(httpx2.SyncByteStream):
    """A response body that raises ReadTimeout once the call's deadline has passed."""

    def __init__(self, inner: httpx2.SyncByteStream, deadline: float | None) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise httpx2.ReadTimeout("the call's total deadline passed")
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _DeadlineTransport(httpx2.BaseTransport):
    def __init__(self) -> None:
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        if not isinstance(response.stream, httpx2.SyncByteStream):
            return response  # not from the sync transport: nothing to watch
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DeadlineBody(response.stream, _DEADLINE.get()),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        self._inner.close()


class _deadline:
    """Sets the deadline of the calls made inside (the earlier one wins when nested)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._token: contextvars.Token[float | None] | None = None

    def __enter__(self) -> None:
        moment = time.monotonic() + max(0.0, self._seconds)
        current = _DEADLINE.get()
        self._token = _DEADLINE.set(moment if current is None else min(current, moment))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _DEADLINE.reset(self._token)


def _client(*, model: str | None = None) -> openai.OpenAI:
    if not settings.OPENAI_BASE_URL or (model is not None and not model):
        raise ModelServerNotConfigured("OPENAI_BASE_URL or the model name is not set.")
    return _cached_client(settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY or PLACEHOLDER_API_KEY)


@lru_cache(maxsize=4)
def _cached_client(base_url: str, api_key: str) -> openai.OpenAI:
    # One client (one connection pool) per address and key, shared by every thread.
    return openai.OpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=0,
        http_client=httpx2.Client(transport=_DeadlineTransport()),
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


def _answer_from(completion: Any, model: str) -> ChatAnswer:
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise _Retryable(ModelServerMalformed("A completion without choices.", status_code=200))
    choice = choices[0]
    message = getattr(choice, "message", None)
    text = getattr(message, "content", None)
    finish_reason = getattr(choice, "finish_reason", None)
    if not isinstance(text, str) or not finish_reason:
        raise _Retryable(
            ModelServerMalformed("A completion without text or finish reason.", status_code=200)
        )
    return _checked_answer(
        text=text,
        finish_reason=str(finish_reason),
        usage=getattr(completion, "usage", None),
        model=str(getattr(completion, "model", "") or model),
    )


def _checked_answer(*, text: str, finish_reason: str, usage: Any, model: str) -> ChatAnswer:
    if finish_reason == "content_filter":
        raise ModelServerBlocked("Answer stopped by a content filter.", finish_reason=finish_reason)
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    return ChatAnswer(
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
        if error is None or isinstance(error, ModelServerError | _Retryable):
            return
        translated = self._translate(error)
        if translated is not None:
            raise translated from error

    def _translate(self, error: BaseException) -> Exception | None:
        timeout = ModelServerTimeout(
            "The model server did not answer in time.", seconds=self._total_s
        )
        if isinstance(error, openai.APITimeoutError | httpx2.TimeoutException):
            return _Retryable(timeout)
        if isinstance(error, openai.APIStatusError):
            return _status_error(error)
        if isinstance(error, openai.APIConnectionError | httpx2.TransportError):
            return _Retryable(
                ModelServerUpstreamError(f"Connection failed: {error!r}", status_code=None)
            )
        if isinstance(error, openai.APIError | ValueError):
            # A body that is not JSON, an event that is not, an error event mid-stream.
            return _Retryable(ModelServerMalformed(f"Malformed answer: {error}", status_code=200))
        return None


def _status_error(error: openai.APIStatusError) -> Exception:
    code = error.status_code
    description = f"The model server answered {code}: {error.message}"
    if code in RETRYABLE_STATUSES:
        final: ModelServerError = (
            ModelServerTimeout(description, seconds=0)
            if code == 408
            else ModelServerUpstreamError(description, status_code=code)
        )
        return _Retryable(final, server_delay_s=retry_after_s(error.response.headers))
    if 400 <= code < 500:
        return ModelServerRejected(description, status_code=code)
    return ModelServerUpstreamError(description, status_code=code)


def retry_after_s(headers: Any) -> float | None:
    """Seconds a `retry-after-ms` or `Retry-After` header asks for (seconds or HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def _with_retries[Result](
    attempt: Callable[[], Result], *, attempts: int, deadline: float, total_s: float
) -> Result:
    """Run `attempt` up to `attempts` times within `deadline`, backing off between them."""
    for number in range(1, max(1, attempts) + 1):
        try:
            return attempt()
        except _Retryable as failure:
            final = failure.final
            if isinstance(final, ModelServerTimeout):
                final.seconds = total_s
            delay = _backoff_delay(number, failure.server_delay_s)
            if number >= attempts or time.monotonic() + delay >= deadline:
                raise final from failure.__cause__
            logger.info(
                "model server attempt %d failed (%s), retrying in %.2fs", number, failure, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


def _backoff_delay(failed_attempts: int, server_delay_s: float | None) -> float:
    base = settings.OPENAI_RETRY_BASE_S * 2 ** (failed_attempts - 1)
    # "Equal jitter": at least half the step, so parallel callers spread out.
    delay = base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not a secret
    if server_delay_s is not None:
        delay = max(delay, server_delay_s)
    return min(delay, settings.OPENAI_RETRY_MAX_S)
