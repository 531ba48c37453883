"""The one door to Google's Gemini API for the whole site.

Both tools call Gemini; only this module imports google-genai, builds its options and knows
its error shapes. It owns the timeouts and the retries (the SDK's own retries are left off:
they cannot tell a per-minute 429 from a daily-quota 429, and they ignore the server's
RetryInfo), chooses between inline PDF data and the Files API, and turns every outcome into
either a `GeminiAnswer` or one of the `GeminiError` subclasses below. It also owns what the
user reads about each failure (`GeminiError.failure`, worded in the reader's language when
shown) and says whether Gemini is configured; callers only add their context.

Each SDK call has a total deadline (connect plus every read, `timeout_s`): the SDK's timeout
bounds each read only, so an upstream trickling bytes would never be cut (see
platform_site.llm.deadline). A 200 whose body is not Gemini's JSON (a proxy's HTML page, JSON cut
short) is an upstream fault, retried like a 5xx.
"""

from __future__ import annotations

import io
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx2
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from google import genai
from google.genai import errors, types

from platform_site.core.failures import Failure, FailureKind, ParamValue, failure_kind
from platform_site.llm.deadline import call_deadline

logger = logging.getLogger(__name__)

PDF_MIME_TYPE = "application/pdf"

# Statuses worth another attempt: Google's own list minus 502/504, which are ours to answer.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Finish reasons meaning "the model refused or was stopped by a filter": retrying the same
# input gets the same refusal, so the caller is told at once.
BLOCKING_FINISH_REASONS = frozenset(
    {
        types.FinishReason.SAFETY,
        types.FinishReason.RECITATION,
        types.FinishReason.PROHIBITED_CONTENT,
        types.FinishReason.OTHER,
        types.FinishReason.BLOCKLIST,
        types.FinishReason.SPII,
        types.FinishReason.LANGUAGE,
        types.FinishReason.IMAGE_SAFETY,
        types.FinishReason.IMAGE_PROHIBITED_CONTENT,
    }
)

# A file uploaded through the Files API may be PROCESSING for a moment before use.
FILE_POLL_INTERVAL_S = 0.5


# What the user reads about each failure (translated when shown, see platform_site.core.failures).
# `charged`: whether Gemini did (paid) work before the failure; only its answers cost.
NOT_CONFIGURED = failure_kind(
    "gemini.not_configured",
    _(
        "Le service d’IA n’est pas disponible sur ce site pour le moment ; prévenez votre "
        "enseignant."
    ),
    retry=False,
    charged=False,
)
TIMEOUT = failure_kind(
    "gemini.timeout",
    _("Gemini n’a pas répondu à temps. Réessayez un peu plus tard."),
    retry=True,
    charged=False,
)
UNAVAILABLE = failure_kind(
    "gemini.unavailable",
    _("Gemini est indisponible pour le moment. Réessayez dans quelques minutes."),
    retry=True,
    charged=False,
)
QUOTA_EXHAUSTED = failure_kind(
    "gemini.quota_exhausted",
    _(
        "Le quota quotidien de Gemini du site est épuisé. Réessayez demain : il est remis à "
        "zéro chaque nuit."
    ),
    retry=True,
    charged=False,
)
REJECTED = failure_kind(
    "gemini.rejected",
    _("Gemini a refusé la demande. Si cela se reproduit, signalez-le à votre enseignant."),
    retry=False,
    charged=False,
)
BLOCKED = failure_kind(
    "gemini.blocked",
    _("Gemini a refusé de répondre (filtre : %(reason)s)."),
    retry=False,
    charged=True,
)
ANSWER_CUT = failure_kind(
    "gemini.answer_cut",
    _("La réponse de Gemini a été coupée (limite de longueur) : reformulez plus court."),
    retry=False,
    charged=True,
)
ANSWER_EMPTY = failure_kind(
    "gemini.answer_empty",
    _("Gemini a répondu sans aucun texte."),
    retry=True,
    charged=True,
)


def is_configured() -> bool:
    """Whether Gemini can be called at all (an API key is set)."""
    return bool(settings.GEMINI_API_KEY)


def missing_setting() -> str:
    """The setting an operator must set for Gemini to work (staff pages and logs only)."""
    return "GEMINI_API_KEY"


class GeminiError(Exception):
    """Any failure to get an answer from Gemini. `failure`: what to record and show."""

    kind: FailureKind = UNAVAILABLE

    def __init__(self, detail: str, **params: ParamValue) -> None:
        super().__init__(detail)
        self.params = params

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self), **self.params)


class GeminiNotConfigured(GeminiError):
    """No API key: the site runs without Gemini."""

    kind = NOT_CONFIGURED


class GeminiTimeout(GeminiError):
    """Every attempt ran out of time."""

    kind = TIMEOUT


class GeminiUpstreamError(GeminiError):
    """Gemini answered with an error status (None: the connection itself failed)."""

    def __init__(self, detail: str, *, status_code: int | None) -> None:
        super().__init__(detail)
        self.status_code = status_code


class GeminiQuotaExhausted(GeminiUpstreamError):
    """The daily quota is spent: retrying before it resets cannot help."""

    kind = QUOTA_EXHAUSTED


class GeminiRejected(GeminiUpstreamError):
    """Gemini refused the request itself (bad input, bad key, unknown model): never retried."""

    kind = REJECTED


class GeminiBlocked(GeminiError):
    """The model stopped for safety, recitation or another policy reason."""

    kind = BLOCKED

    def __init__(self, detail: str, *, finish_reason: str) -> None:
        super().__init__(detail, reason=finish_reason)
        self.finish_reason = finish_reason


class GeminiAnswerUnusable(GeminiError):
    """Gemini answered, but with no text (or one cut by its output limit, see `ANSWER_CUT`)."""

    kind = ANSWER_EMPTY


class GeminiAnswerCut(GeminiAnswerUnusable):
    kind = ANSWER_CUT


@dataclass(frozen=True)
class GeminiAnswer:
    text: str
    finish_reason: str
    # True when the output limit cut the answer: the text is incomplete and must not be used
    # as if it were whole.
    truncated: bool
    input_tokens: int | None
    output_tokens: int | None
    model: str


def answer_text(answer: GeminiAnswer) -> str:
    """The answer's whole text, or GeminiAnswerCut / GeminiAnswerUnusable if it cannot serve."""
    if answer.truncated:
        raise GeminiAnswerCut(f"Answer cut by the output limit ({answer.finish_reason}).")
    if not answer.text.strip():
        raise GeminiAnswerUnusable(f"Answer without text ({answer.finish_reason}).")
    return answer.text


class _Retryable(Exception):
    """An attempt that failed in a way another attempt may fix."""

    def __init__(self, final: GeminiError, *, server_delay_s: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.server_delay_s = server_delay_s


def generate(
    *,
    model: str,
    prompt: str,
    system_instruction: str | None = None,
    pdf: bytes | None = None,
    max_output_tokens: int | None = None,
    timeout_s: float,
    attempts: int = 1,
    thinking_level: str | None = None,
) -> GeminiAnswer:
    """Ask `model` once (up to `attempts` tries), with an optional PDF attached.

    `timeout_s` bounds each attempt. PDFs larger than GEMINI_INLINE_PDF_MAX_MB go through
    the Files API: uploaded once for all attempts and deleted afterwards.
    `thinking_level` (LOW, MEDIUM, HIGH) is left to the model's default when None.
    """
    client = _client()
    config = types.GenerateContentConfig(
        system_instruction=system_instruction,
        max_output_tokens=max_output_tokens,
        thinking_config=(
            types.ThinkingConfig(thinking_level=types.ThinkingLevel(thinking_level))
            if thinking_level
            else None
        ),
        http_options=_http_options(timeout_s),
    )
    if pdf is None or len(pdf) <= settings.GEMINI_INLINE_PDF_MAX_MB * 1024 * 1024:
        parts = [] if pdf is None else [types.Part.from_bytes(data=pdf, mime_type=PDF_MIME_TYPE)]
        return _with_retries(
            lambda: _generate_once(
                client, model, [*parts, types.Part(text=prompt)], config, timeout_s
            ),
            attempts=attempts,
        )

    uploaded = file_upload(pdf=pdf, timeout_s=timeout_s, attempts=attempts)
    try:
        file_part = types.Part.from_uri(file_uri=uploaded.uri or "", mime_type=PDF_MIME_TYPE)
        return _with_retries(
            lambda: _generate_once(
                client, model, [file_part, types.Part(text=prompt)], config, timeout_s
            ),
            attempts=attempts,
        )
    finally:
        file_delete(name=uploaded.name or "", timeout_s=timeout_s)


def file_upload(*, pdf: bytes, timeout_s: float, attempts: int = 1) -> types.File:
    """Upload a PDF through the Files API (resumable protocol) and wait until it is usable."""
    client = _client()

    def upload_once() -> types.File:
        with _translated_errors(timeout_s):
            uploaded = client.files.upload(
                file=io.BytesIO(pdf),
                config=types.UploadFileConfig(
                    mime_type=PDF_MIME_TYPE, http_options=_http_options(timeout_s)
                ),
            )
            deadline = time.monotonic() + timeout_s
            while uploaded.state == types.FileState.PROCESSING:
                if time.monotonic() > deadline:
                    raise _Retryable(GeminiTimeout("The uploaded file stayed PROCESSING."))
                time.sleep(FILE_POLL_INTERVAL_S)
                uploaded = client.files.get(
                    name=uploaded.name or "",
                    config=types.GetFileConfig(http_options=_http_options(timeout_s)),
                )
        if uploaded.state == types.FileState.FAILED:
            raise GeminiRejected("Gemini could not process the uploaded file.", status_code=None)
        return uploaded

    return _with_retries(upload_once, attempts=attempts)


def file_delete(*, name: str, timeout_s: float) -> None:
    """Delete an uploaded file; a failure is logged, not raised (files expire after 48 h)."""
    try:
        with _translated_errors(timeout_s):
            _client().files.delete(
                name=name, config=types.DeleteFileConfig(http_options=_http_options(timeout_s))
            )
    except (GeminiError, _Retryable) as error:
        logger.warning("gemini file %s not deleted: %s", name, error)


def _client() -> genai.Client:
    if not settings.GEMINI_API_KEY:
        raise GeminiNotConfigured("GEMINI_API_KEY is not set.")
    return _cached_client(settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL or None)


@lru_cache(maxsize=4)
def _cached_client(api_key: str, base_url: str | None) -> genai.Client:
    # One client per key and address, shared by every thread. No keep-alive: each call opens
    # its own connection, which its total deadline can watch and cut (a handshake is small
    # beside a call of several seconds).
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=base_url,
            client_args={"limits": httpx2.Limits(max_keepalive_connections=0)},
        ),
    )


def _http_options(timeout_s: float) -> types.HttpOptions:
    # HttpOptions.timeout is in milliseconds; no retry_options, so the SDK makes one attempt.
    return types.HttpOptions(timeout=max(1, round(timeout_s * 1000)))


def _generate_once(
    client: genai.Client,
    model: str,
    parts: list[types.Part],
    config: types.GenerateContentConfig,
    timeout_s: float,
) -> GeminiAnswer:
    with _translated_errors(timeout_s):
        response = client.models.generate_content(
            model=model, contents=types.Content(role="user", parts=parts), config=config
        )
    return _answer_from(response, model)


def _answer_from(response: types.GenerateContentResponse, model: str) -> GeminiAnswer:
    if not response.candidates:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = str(feedback.block_reason.value)
            raise GeminiBlocked(f"Prompt blocked: {reason}.", finish_reason=reason)
        raise GeminiUpstreamError("Gemini answered without any candidate.", status_code=200)

    candidate = response.candidates[0]
    finish_reason = candidate.finish_reason
    reason_name = str(finish_reason.value) if finish_reason is not None else ""
    if finish_reason in BLOCKING_FINISH_REASONS:
        raise GeminiBlocked(f"Answer stopped: {reason_name}.", finish_reason=reason_name)

    text = "".join(
        part.text
        for part in (candidate.content.parts or [] if candidate.content else [])
        if part.text and not part.thought
    )
    usage = response.usage_metadata
    output_tokens = None
    if usage is not None and usage.candidates_token_count is not None:
        # Thinking tokens are billed as output and count against max_output_tokens.
        output_tokens = usage.candidates_token_count + (usage.thoughts_token_count or 0)
    return GeminiAnswer(
        text=text,
        finish_reason=reason_name,
        truncated=finish_reason == types.FinishReason.MAX_TOKENS,
        input_tokens=usage.prompt_token_count if usage is not None else None,
        output_tokens=output_tokens,
        model=response.model_version or model,
    )


@contextmanager
def _translated_errors(timeout_s: float) -> Iterator[None]:
    """Turn the SDK's and the HTTP client's exceptions into ours, marking the retryable ones;
    cut the call once `timeout_s` have passed since it started, however the bytes trickle."""
    with call_deadline(timeout_s) as watch:
        try:
            yield
        except (GeminiError, _Retryable):
            if watch.expired:
                raise _Retryable(GeminiTimeout("Gemini did not answer in time.")) from None
            raise
        except Exception as error:
            if watch.expired:
                raise _Retryable(GeminiTimeout("Gemini did not answer in time.")) from error
            translated = _translated(error)
            if translated is error:
                raise
            raise translated from error
    if watch.expired:
        # Cut mid-body: whatever was parsed is not the whole answer.
        raise _Retryable(GeminiTimeout("Gemini did not answer in time."))


def _translated(error: Exception) -> Exception:
    if isinstance(error, errors.APIError):
        return _translated_api_error(error)
    if isinstance(error, httpx2.TimeoutException):
        return _Retryable(GeminiTimeout("Gemini did not answer in time."))
    if isinstance(error, httpx2.TransportError):
        return _Retryable(
            GeminiUpstreamError(f"Connection to Gemini failed: {error}", status_code=None)
        )
    if isinstance(error, ValueError):
        # json.JSONDecodeError and pydantic's ValidationError: a 200 whose body is not
        # Gemini's JSON (a proxy's HTML page, a body cut short).
        return _Retryable(
            GeminiUpstreamError(f"Gemini answered an unreadable body: {error}", status_code=200)
        )
    return error


def _translated_api_error(error: errors.APIError) -> Exception:
    code = error.code
    description = f"Gemini answered {code} {error.status or ''}: {error.message or ''}".strip()
    if code == 429 and _is_daily_quota(error.details):
        return GeminiQuotaExhausted(description, status_code=code)
    if code in RETRYABLE_STATUSES:
        final: GeminiError = (
            GeminiTimeout(description)
            if code == 408
            else GeminiUpstreamError(description, status_code=code)
        )
        return _Retryable(final, server_delay_s=_server_retry_delay(error.details))
    if 400 <= code < 500:
        return GeminiRejected(description, status_code=code)
    return GeminiUpstreamError(description, status_code=code)


def _error_details(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return []
    inner = body.get("error", body)
    details = inner.get("details") if isinstance(inner, dict) else None
    return [detail for detail in details or [] if isinstance(detail, dict)]


def _is_daily_quota(body: Any) -> bool:
    for detail in _error_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for violation in detail.get("violations") or []:
                if "PerDay" in str(violation.get("quotaId", "")):
                    return True
    return False


def _server_retry_delay(body: Any) -> float | None:
    for detail in _error_details(body):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _with_retries[Result](attempt: Callable[[], Result], *, attempts: int) -> Result:
    """Run `attempt` up to `attempts` times, sleeping with exponential backoff and jitter."""
    for number in range(1, max(1, attempts) + 1):
        try:
            return attempt()
        except _Retryable as failure:
            if number >= attempts:
                raise failure.final from failure.__cause__
            delay = _backoff_delay(number, failure.server_delay_s)
            logger.info("gemini attempt %d failed (%s), retrying in %.2fs", number, failure, delay)
            time.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


def _backoff_delay(failed_attempts: int, server_delay_s: float | None) -> float:
    base = settings.GEMINI_RETRY_BASE_S * 2 ** (failed_attempts - 1)
    # "Equal jitter": at least half the exponential step, so parallel callers spread out
    # without any of them hammering the API at once.
    delay = base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not a secret
    if server_delay_s is not None:
        delay = max(delay, server_delay_s)
    return min(delay, settings.GEMINI_RETRY_MAX_S)
