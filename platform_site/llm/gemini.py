"""The one door to Google's Gemini API for the whole site.

Only this module imports google-genai, builds its options and knows its error shapes. It
owns the SDK side of each call (the SDK's own retries are left off: they cannot tell a
per-minute 429 from a daily-quota 429, and they ignore the server's RetryInfo, which this
module reads for platform_site.llm.retry), chooses between inline PDF data and the Files API,
and turns every outcome into an `Answer` or an `LlmError` of one of the shared kinds
(platform_site.llm.errors), keeping Google's words as the staff detail.

Each SDK call has a total deadline (connect plus every read, `timeout_s`): the SDK's timeout
bounds each read only, so an upstream trickling bytes would never be cut (see
platform_site.llm.deadline). A 200 whose body is not Gemini's JSON (a proxy's HTML page, JSON cut
short) is an upstream fault, retried like a 5xx.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx2
from google import genai
from google.genai import errors, types

from platform_site.llm.deadline import call_deadline
from platform_site.llm.errors import (
    BLOCKED,
    MALFORMED,
    NOT_CONFIGURED,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNREACHABLE,
    Answer,
    LlmError,
)
from platform_site.llm.retry import RETRYABLE_STATUSES, Retryable, RetryPolicy, with_retries

logger = logging.getLogger(__name__)

PDF_MIME_TYPE = "application/pdf"

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


@dataclass(frozen=True)
class Connection:
    """Where Gemini is and how hard to insist (filled by platform_site.llm.registry)."""

    api_key: str
    base_url: str = ""
    # PDFs above this go through the Files API instead of inline in the request.
    inline_pdf_max_mb: int = 20
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0


def generate(
    *,
    connection: Connection,
    model: str,
    prompt: str,
    system_instruction: str | None = None,
    pdf: bytes | None = None,
    max_output_tokens: int | None = None,
    timeout_s: float,
    attempts: int = 1,
    thinking_level: str | None = None,
) -> Answer:
    """Ask `model` once (up to `attempts` tries), with an optional PDF attached.

    `timeout_s` bounds each attempt. PDFs larger than `connection.inline_pdf_max_mb` go through
    the Files API: uploaded once for all attempts and deleted afterwards.
    `thinking_level` (LOW, MEDIUM, HIGH) is left to the model's default when None.
    """
    client = _client(connection)
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
    if pdf is None or len(pdf) <= connection.inline_pdf_max_mb * 1024 * 1024:
        parts = [] if pdf is None else [types.Part.from_bytes(data=pdf, mime_type=PDF_MIME_TYPE)]
        return _with_retries(
            lambda: _generate_once(
                client, model, [*parts, types.Part(text=prompt)], config, timeout_s
            ),
            connection=connection,
            attempts=attempts,
        )

    uploaded = file_upload(connection=connection, pdf=pdf, timeout_s=timeout_s, attempts=attempts)
    try:
        file_part = types.Part.from_uri(file_uri=uploaded.uri or "", mime_type=PDF_MIME_TYPE)
        return _with_retries(
            lambda: _generate_once(
                client, model, [file_part, types.Part(text=prompt)], config, timeout_s
            ),
            connection=connection,
            attempts=attempts,
        )
    finally:
        file_delete(connection=connection, name=uploaded.name or "", timeout_s=timeout_s)


def file_upload(
    *, connection: Connection, pdf: bytes, timeout_s: float, attempts: int = 1
) -> types.File:
    """Upload a PDF through the Files API (resumable protocol) and wait until it is usable."""
    client = _client(connection)

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
                    raise Retryable(LlmError(TIMEOUT, "The uploaded file stayed PROCESSING."))
                time.sleep(FILE_POLL_INTERVAL_S)
                uploaded = client.files.get(
                    name=uploaded.name or "",
                    config=types.GetFileConfig(http_options=_http_options(timeout_s)),
                )
        if uploaded.state == types.FileState.FAILED:
            raise LlmError(REJECTED, "Gemini could not process the uploaded file.")
        return uploaded

    return _with_retries(upload_once, connection=connection, attempts=attempts)


def file_delete(*, connection: Connection, name: str, timeout_s: float) -> None:
    """Delete an uploaded file; a failure is logged, not raised (files expire after 48 h)."""
    try:
        with _translated_errors(timeout_s):
            _client(connection).files.delete(
                name=name, config=types.DeleteFileConfig(http_options=_http_options(timeout_s))
            )
    except (LlmError, Retryable) as error:
        logger.warning("gemini file %s not deleted: %s", name, error)


def _client(connection: Connection) -> genai.Client:
    if not connection.api_key:
        raise LlmError(NOT_CONFIGURED, "GEMINI_API_KEY is not set.")
    return _cached_client(connection.api_key, connection.base_url or None)


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
) -> Answer:
    with _translated_errors(timeout_s):
        response = client.models.generate_content(
            model=model, contents=types.Content(role="user", parts=parts), config=config
        )
    return _answer_from(response, model)


def _answer_from(response: types.GenerateContentResponse, model: str) -> Answer:
    if not response.candidates:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = str(feedback.block_reason.value)
            raise LlmError(BLOCKED, f"Prompt blocked: {reason}.")
        raise LlmError(MALFORMED, "Gemini answered without any candidate.", status_code=200)

    candidate = response.candidates[0]
    finish_reason = candidate.finish_reason
    reason_name = str(finish_reason.value) if finish_reason is not None else ""
    if finish_reason in BLOCKING_FINISH_REASONS:
        raise LlmError(BLOCKED, f"Answer stopped: {reason_name}.")

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
    return Answer(
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
        except (LlmError, Retryable):
            if watch.expired:
                raise Retryable(LlmError(TIMEOUT, "Gemini did not answer in time.")) from None
            raise
        except Exception as error:
            if watch.expired:
                raise Retryable(LlmError(TIMEOUT, "Gemini did not answer in time.")) from error
            translated = _translated(error)
            if translated is error:
                raise
            raise translated from error
    if watch.expired:
        # Cut mid-body: whatever was parsed is not the whole answer.
        raise Retryable(LlmError(TIMEOUT, "Gemini did not answer in time."))


def _translated(error: Exception) -> Exception:
    if isinstance(error, errors.APIError):
        return _translated_api_error(error)
    if isinstance(error, httpx2.TimeoutException):
        return Retryable(LlmError(TIMEOUT, "Gemini did not answer in time."))
    if isinstance(error, httpx2.TransportError):
        return Retryable(LlmError(UNREACHABLE, f"Connection to Gemini failed: {error}"))
    if isinstance(error, ValueError):
        # json.JSONDecodeError and pydantic's ValidationError: a 200 whose body is not
        # Gemini's JSON (a proxy's HTML page, a body cut short).
        return Retryable(
            LlmError(MALFORMED, f"Gemini answered an unreadable body: {error}", status_code=200)
        )
    return error


def _translated_api_error(error: errors.APIError) -> Exception:
    code = error.code
    description = f"Gemini answered {code} {error.status or ''}: {error.message or ''}".strip()
    if code == 429 and _is_daily_quota(error.details):
        return LlmError(QUOTA_EXHAUSTED, description, status_code=code)
    if code in RETRYABLE_STATUSES:
        kind = {408: TIMEOUT, 429: RATE_LIMITED}.get(code, UNREACHABLE)
        final = LlmError(kind, description, status_code=code)
        return Retryable(final, server_delay_s=_server_retry_delay(error.details))
    if 400 <= code < 500:
        return LlmError(REJECTED, description, status_code=code)
    return LlmError(UNREACHABLE, description, status_code=code)


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


def _with_retries[Result](
    attempt: Callable[[], Result], *, connection: Connection, attempts: int
) -> Result:
    policy = RetryPolicy(
        attempts=attempts,
        base_delay_s=connection.retry_base_s,
        max_delay_s=connection.retry_max_s,
    )
    return with_retries(attempt, policy=policy, label="gemini")
