"""The one door to the Make.com webhook (a Make scenario that asks an LLM).

Only this module builds the webhook request. It takes the address, key and time limit as
parameters (`WebhookCall`, filled by platform_site.llm.registry) and owns the connect
timeout (5 s), the reading of Make's reply shapes (an HTML page or cut JSON is an upstream
fault, "Accepted" means the scenario has no response module) and which failures deserve the
single retry. The whole answer comes within the call's time limit: a total deadline on
connect plus every read (platform_site.llm.deadline), so a trickling upstream is cut. A
question is never sent twice once it may have reached the scenario: no retry after a read
timeout or a connection lost mid-answer. Failures are `LlmError`s of the shared kinds, with
Make's words kept as the staff detail.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from platform_site.llm.deadline import call_deadline
from platform_site.llm.errors import (
    ANSWER_CUT,
    ANSWER_UNUSABLE,
    MALFORMED,
    NOT_CONFIGURED,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNREACHABLE,
    LlmError,
)
from platform_site.llm.retry import Retryable, RetryPolicy, retry_after_s, with_retries

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
# Keys a Make "Webhook response" module (or an LLM module's raw output) may carry the text
# under, in the order they are tried.
TEXT_KEYS = ("answer", "response", "text", "output", "result", "message")
# Make's payload limit is about 5 MB; an answer to one question is a few kilobytes.
MAX_REPLY_BYTES = 2 * 1024 * 1024
RETRY_STATUSES = frozenset({502, 503})
# Sent by Make when the scenario has no "Webhook response" module: the question was queued,
# no answer will come back on this connection.
ACCEPTED_BODY = "accepted"
SCENARIO_FAILED_BODY = "scenario failed to complete."


@dataclass(frozen=True)
class WebhookCall:
    """Where and how one question goes: the caller (the registry) reads its own settings."""

    url: str
    api_key: str
    # The whole answer, retries and pauses included, within this.
    timeout_s: float
    # The pause before the second attempt is between this and twice it (or Retry-After).
    backoff_s: float


def send(*, call: WebhookCall, message: str) -> str:
    """POST `{"message": message}` to the webhook and return the LLM's text.

    At most two attempts: the second only after a connection that never reached the server,
    a 502/503, or a 429 whose Retry-After fits in the remaining time.
    """
    if not call.url:
        raise LlmError(NOT_CONFIGURED, "The webhook's address (CODEGEN_WEBHOOK_URL) is empty.")
    deadline = time.monotonic() + call.timeout_s
    headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1"}
    if call.api_key:
        headers["x-make-apikey"] = call.api_key
    # Equal jitter over twice the step: the pause is between backoff_s and twice it.
    policy = RetryPolicy(
        attempts=2,
        base_delay_s=2 * call.backoff_s,
        max_delay_s=call.timeout_s,
        deadline=deadline,
    )
    return with_retries(
        lambda: _attempt(call, message, headers, deadline), policy=policy, label="webhook"
    )


def _attempt(call: WebhookCall, message: str, headers: dict[str, str], deadline: float) -> str:
    remaining_s = deadline - time.monotonic()
    if remaining_s <= 0:
        raise _timeout(call)
    with call_deadline(remaining_s) as watch:
        try:
            status, response_headers, body = _exchange(call, message, headers, deadline)
        except (LlmError, Retryable) as error:
            if watch.expired:
                raise _timeout(call) from error
            raise
    if watch.expired:
        # The connection was cut mid-body: what arrived is not the whole answer.
        raise _timeout(call)
    return _text_from(status, response_headers, body)


def _exchange(
    call: WebhookCall, message: str, headers: dict[str, str], deadline: float
) -> tuple[int, requests.structures.CaseInsensitiveDict[str], bytes]:
    remaining_s = deadline - time.monotonic()
    try:
        response = requests.post(
            call.url,
            json={"message": message},
            headers=headers,
            timeout=(min(CONNECT_TIMEOUT_S, remaining_s), remaining_s),
            stream=True,
            allow_redirects=False,
        )
    except requests.ConnectTimeout as error:
        raise Retryable(_unreachable(error)) from error
    except requests.ReadTimeout as error:
        raise _timeout(call) from error
    except requests.ConnectionError as error:
        if _never_reached_server(error):
            raise Retryable(_unreachable(error)) from error
        raise LlmError(
            UNREACHABLE, f"Connection to the webhook lost before its answer: {error}"
        ) from error
    except requests.RequestException as error:
        raise LlmError(UNREACHABLE, f"The webhook could not be called: {error}") from error
    with response:
        return response.status_code, response.headers, _read_body(call, response, deadline)


def _unreachable(error: Exception) -> LlmError:
    logger.warning("webhook unreachable: %s", error)
    return LlmError(UNREACHABLE, f"The webhook is unreachable: {error}")


def _timeout(call: WebhookCall) -> LlmError:
    return LlmError(TIMEOUT, f"No complete answer within CODEGEN_TIMEOUT_S={call.timeout_s:g} s.")


def _never_reached_server(error: requests.ConnectionError) -> bool:
    # Refused, unknown host, no route: the question was never sent, sending it again is safe.
    # A connection dropped after sending (RemoteDisconnected...) may have reached Make.
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def _read_body(call: WebhookCall, response: requests.Response, deadline: float) -> bytes:
    """The whole body, within the deadline and the size cap (a trickle cannot hold us)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=16384):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                mb = MAX_REPLY_BYTES // (1024 * 1024)
                raise LlmError(
                    ANSWER_CUT,
                    f"The webhook's reply is over {mb} MB.",
                    status_code=response.status_code,
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _timeout(call)
    except requests.ConnectionError as error:
        if isinstance(error.args[0] if error.args else None, ReadTimeoutError):
            raise _timeout(call) from error
        raise _cut_during_answer(response.status_code) from error
    except requests.RequestException as error:
        # A body shorter than its Content-Length or a broken chunk: an upstream fault.
        raise _cut_during_answer(response.status_code) from error
    return b"".join(chunks)


def _cut_during_answer(status: int) -> LlmError:
    return LlmError(
        ANSWER_UNUSABLE, "Connection to the webhook lost during its answer.", status_code=status
    )


def _text_from(
    status: int, headers: requests.structures.CaseInsensitiveDict[str], body: bytes
) -> str:
    content_type = headers.get("Content-Type", "")
    text = body.decode(_charset(content_type), errors="replace").strip()
    if status == 429:
        wait_s = retry_after_s(headers)
        final = LlmError(
            RATE_LIMITED, "The webhook answered 429 (too many requests).", status_code=status
        )
        if wait_s is None:
            raise final
        raise Retryable(final, server_delay_s=wait_s)
    if status in RETRY_STATUSES:
        raise Retryable(
            LlmError(
                UNREACHABLE, f"The webhook answered {status}: {_excerpt(text)}", status_code=status
            )
        )
    if status == 410:
        raise LlmError(
            REJECTED,
            "The Make.com webhook is disabled (410): Make turns a webhook off after 5 days "
            "without an active scenario. Re-enable the scenario, or create a new webhook and "
            "update CODEGEN_WEBHOOK_URL.",
            status_code=status,
        )
    if status in (401, 403):
        raise LlmError(
            REJECTED,
            f"The webhook refuses the API key ({status}): check CODEGEN_WEBHOOK_API_KEY "
            "(sent as the x-make-apikey header).",
            status_code=status,
        )
    if status == 500 and text.lower() == SCENARIO_FAILED_BODY:
        raise LlmError(
            UNREACHABLE,
            "The Make.com scenario failed before answering (500): see its execution history "
            "in Make.",
            status_code=status,
        )
    if not 200 <= status < 300:
        raise LlmError(
            UNREACHABLE, f"The webhook answered {status}: {_excerpt(text)}", status_code=status
        )
    if text.lower() == ACCEPTED_BODY:
        raise LlmError(
            REJECTED,
            'The webhook only acknowledged the question ("Accepted"): the Make.com scenario '
            'has no "Webhook response" module. Add one that returns the model\'s text.',
            status_code=status,
        )
    try:
        answer = _answer_text(text, content_type=content_type.lower())
    except ValueError as error:
        # A proxy's page or a body cut short, not the scenario's answer: retried like a 502.
        raise Retryable(
            LlmError(
                MALFORMED,
                f"The webhook's {status} is not an answer (HTML page or cut JSON): "
                f"{_excerpt(text)}",
                status_code=status,
            )
        ) from error
    if not answer:
        raise LlmError(
            ANSWER_UNUSABLE, f"The webhook answered {status} without any text.", status_code=status
        )
    return answer


def _excerpt(text: str) -> str:
    return text[:300]


def _charset(content_type: str) -> str:
    # requests assumes ISO-8859-1 for text/* without a charset; Make and LLMs speak UTF-8.
    match = re.search(r"charset=\"?([\w.:-]+)", content_type, re.IGNORECASE)
    if match:
        try:
            return codecs.lookup(match[1]).name
        except LookupError:
            pass
    return "utf-8"


def _answer_text(text: str, *, content_type: str) -> str:
    """The LLM's text: the body itself, or the first text field when it is JSON.

    Raises ValueError for what cannot be an answer: an HTML page (a proxy's error page
    answered with 200) or JSON that does not parse (cut short).
    """
    if "html" in content_type or text[:15].lower().startswith(("<!doctype html", "<html")):
        raise ValueError("an HTML page, not an answer")
    declared_json = "json" in content_type
    looks_json = text.startswith(("{", "["))
    if not (declared_json or looks_json):
        return text
    try:
        payload = json.loads(text)
    except ValueError:
        if declared_json and looks_json:
            raise  # declared JSON, starts as JSON, does not parse: cut short
        # Plain text declared JSON (a scenario with the wrong header), or text that happens
        # to start with a bracket.
        return text
    return _text_in(payload).strip()


def _text_in(payload: Any) -> str:
    if isinstance(payload, str):
        return payload
    if isinstance(payload, list):
        return _text_in(payload[0]) if payload else ""
    if not isinstance(payload, dict):
        return ""
    for key in TEXT_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""
