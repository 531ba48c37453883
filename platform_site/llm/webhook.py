"""The one door to the Make.com webhook (a Make scenario that asks an LLM).

Only this module builds the webhook request. It owns the timeouts (connect 5 s, the whole
answer within CODEGEN_TIMEOUT_S: a total deadline on connect plus every read, so a
trickling upstream is cut, see platform_site.llm.deadline), the single retry, the reading of
Make's reply shapes (an HTML page or cut JSON is an upstream fault) and its own exceptions,
which the views map to 503 (not configured), 504 (timeout) and 502 (anything else the other
side did wrong). A question is never sent twice once it may have reached the scenario: no
retry after a read timeout or a connection lost mid-answer. It also owns what the student
reads about each failure (`WebhookError.failure`) and says whether the webhook is configured.
"""

from __future__ import annotations

import codecs
import json
import logging
import random
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from platform_site.core.failures import Failure, FailureKind, ParamValue, failure_kind
from platform_site.llm.deadline import call_deadline

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


# What the student reads about each failure (translated when shown, see core.failures):
# never the operator's words. The operator's words go in the detail (staff pages and logs).
# `charged`: whether the scenario answered (its LLM call costs); a refusal or no answer does not.
NOT_CONFIGURED = failure_kind(
    "webhook.not_configured",
    _("La génération de code n’est pas encore disponible sur ce site ; prévenez votre enseignant."),
    retry=False,
    charged=False,
)
UNREACHABLE = failure_kind(
    "webhook.unreachable",
    _("Le service qui rédige les réponses est injoignable pour le moment. Réessayez plus tard."),
    retry=True,
    charged=False,
)
CONNECTION_LOST = failure_kind(
    "webhook.connection_lost",
    _("La connexion au service qui rédige les réponses a été coupée avant sa réponse."),
    retry=True,
    charged=False,
)
TIMEOUT = failure_kind(
    "webhook.timeout",
    _("Le modèle n’a pas répondu dans les %(seconds)s secondes prévues."),
    retry=True,
    charged=False,
)
BUSY = failure_kind(
    "webhook.busy",
    _("Le service qui rédige les réponses est surchargé. Réessayez dans un instant."),
    retry=True,
    charged=False,
)
UNAVAILABLE = failure_kind(
    "webhook.unavailable",
    _("Le service qui rédige les réponses est indisponible (erreur %(status)s) : réessayez."),
    retry=True,
    charged=False,
)
# The site's configuration is wrong (disabled webhook, refused key, missing response module):
# nothing a student can do, and retrying fails the same way until the operator acts.
MISCONFIGURED = failure_kind(
    "webhook.misconfigured",
    _(
        "La génération de code est momentanément hors service sur ce site ; prévenez votre "
        "enseignant."
    ),
    retry=False,
    charged=False,
)
REPLY_TOO_LARGE = failure_kind(
    "webhook.reply_too_large",
    _("La réponse du modèle dépasse %(mb)s Mo : reformulez la question."),
    retry=False,
    charged=True,
)
REPLY_CUT = failure_kind(
    "webhook.reply_cut",
    _("La réponse du modèle a été coupée en route. Réessayez."),
    retry=True,
    charged=True,
)
# A proxy's page or a body cut short instead of the scenario's answer.
UNREADABLE = failure_kind(
    "webhook.unreadable",
    _("Le service qui rédige les réponses a renvoyé une réponse illisible. Réessayez."),
    retry=True,
    charged=False,
)
REPLY_EMPTY = failure_kind(
    "webhook.reply_empty",
    _("Le modèle a répondu sans aucun texte. Réessayez."),
    retry=True,
    charged=True,
)


def is_configured() -> bool:
    """Whether questions can be sent at all (the webhook's address is set)."""
    return bool(settings.CODEGEN_WEBHOOK_URL)


def missing_setting() -> str:
    """The setting an operator must set for the webhook to work (staff pages and logs only)."""
    return "CODEGEN_WEBHOOK_URL"


class WebhookError(Exception):
    """The webhook gave no usable answer (mapped to 502). `status_code`: its HTTP status.

    `str(error)` is the operator's detail (English, for staff and logs); `failure` is what
    is recorded and shown to the student.
    """

    def __init__(
        self,
        kind: FailureKind,
        detail: str,
        *,
        status_code: int | None = None,
        **params: ParamValue,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.status_code = status_code
        self.params = params

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self), **self.params)


class WebhookNotConfigured(WebhookError):
    """CODEGEN_WEBHOOK_URL is empty (mapped to 503: nothing upstream failed)."""


class WebhookTimeout(WebhookError):
    """No complete answer within CODEGEN_TIMEOUT_S (mapped to 504)."""


class _Retryable(Exception):
    def __init__(self, final: WebhookError, *, wait_s: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.wait_s = wait_s


def send(*, message: str) -> str:
    """POST `{"message": message}` to the webhook and return the LLM's text.

    At most two attempts: the second only after a connection that never reached the server,
    a 502/503, or a 429 whose Retry-After fits in the remaining time.
    """
    url = settings.CODEGEN_WEBHOOK_URL
    if not url:
        raise WebhookNotConfigured(
            NOT_CONFIGURED, "CODEGEN_WEBHOOK_URL is empty (or choose CODEGEN_BACKEND=gemini)."
        )
    deadline = time.monotonic() + settings.CODEGEN_TIMEOUT_S
    headers = {"Accept": "application/json, text/plain;q=0.9, */*;q=0.1"}
    if settings.CODEGEN_WEBHOOK_API_KEY:
        headers["x-make-apikey"] = settings.CODEGEN_WEBHOOK_API_KEY
    try:
        return _attempt(url, message, headers, deadline)
    except _Retryable as first:
        wait_s = first.wait_s if first.wait_s is not None else _backoff_s()
        if time.monotonic() + wait_s >= deadline:
            raise first.final from first
        logger.info("webhook attempt failed (%s), retrying in %.2fs", first, wait_s)
        time.sleep(wait_s)
    try:
        return _attempt(url, message, headers, deadline)
    except _Retryable as second:
        raise second.final from second


def _backoff_s() -> float:
    base = settings.CODEGEN_RETRY_BACKOFF_S
    # At least the base, up to twice it, so parallel callers do not come back together.
    return base + random.uniform(0, base)  # noqa: S311 - jitter, not a secret


def _attempt(url: str, message: str, headers: dict[str, str], deadline: float) -> str:
    remaining_s = deadline - time.monotonic()
    if remaining_s <= 0:
        raise _timeout()
    with call_deadline(remaining_s) as watch:
        try:
            status, response_headers, body = _exchange(url, message, headers, deadline)
        except (WebhookError, _Retryable) as error:
            if watch.expired:
                raise _timeout() from error
            raise
    if watch.expired:
        # The connection was cut mid-body: what arrived is not the whole answer.
        raise _timeout()
    return _text_from(status, response_headers, body)


def _exchange(
    url: str, message: str, headers: dict[str, str], deadline: float
) -> tuple[int, requests.structures.CaseInsensitiveDict[str], bytes]:
    remaining_s = deadline - time.monotonic()
    try:
        response = requests.post(
            url,
            json={"message": message},
            headers=headers,
            timeout=(min(CONNECT_TIMEOUT_S, remaining_s), remaining_s),
            stream=True,
            allow_redirects=False,
        )
    except requests.ConnectTimeout as error:
        raise _Retryable(_unreachable(error)) from error
    except requests.ReadTimeout as error:
        raise _timeout() from error
    except requests.ConnectionError as error:
        if _never_reached_server(error):
            raise _Retryable(_unreachable(error)) from error
        raise WebhookError(
            CONNECTION_LOST, f"Connection to the webhook lost before its answer: {error}"
        ) from error
    except requests.RequestException as error:
        raise WebhookError(UNREACHABLE, f"The webhook could not be called: {error}") from error
    with response:
        return response.status_code, response.headers, _read_body(response, deadline)


def _unreachable(error: Exception) -> WebhookError:
    logger.warning("webhook unreachable: %s", error)
    return WebhookError(UNREACHABLE, f"The webhook is unreachable: {error}")


def _timeout() -> WebhookTimeout:
    seconds = f"{settings.CODEGEN_TIMEOUT_S:g}"
    return WebhookTimeout(
        TIMEOUT, f"No complete answer within CODEGEN_TIMEOUT_S={seconds} s.", seconds=seconds
    )


def _never_reached_server(error: requests.ConnectionError) -> bool:
    # Refused, unknown host, no route: the question was never sent, sending it again is safe.
    # A connection dropped after sending (RemoteDisconnected...) may have reached Make.
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, NewConnectionError)


def _read_body(response: requests.Response, deadline: float) -> bytes:
    """The whole body, within the deadline and the size cap (a trickle cannot hold us)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=16384):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                mb = MAX_REPLY_BYTES // (1024 * 1024)
                raise WebhookError(
                    REPLY_TOO_LARGE,
                    f"The webhook's reply is over {mb} MB.",
                    status_code=response.status_code,
                    mb=mb,
                )
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise _timeout()
    except requests.ConnectionError as error:
        if isinstance(error.args[0] if error.args else None, ReadTimeoutError):
            raise _timeout() from error
        raise _cut_during_answer(response.status_code) from error
    except requests.RequestException as error:
        # A body shorter than its Content-Length or a broken chunk: an upstream fault.
        raise _cut_during_answer(response.status_code) from error
    return b"".join(chunks)


def _cut_during_answer(status: int) -> WebhookError:
    return WebhookError(
        REPLY_CUT, "Connection to the webhook lost during its answer.", status_code=status
    )


def _text_from(
    status: int, headers: requests.structures.CaseInsensitiveDict[str], body: bytes
) -> str:
    content_type = headers.get("Content-Type", "")
    text = body.decode(_charset(content_type), errors="replace").strip()
    if status == 429:
        wait_s = _retry_after_s(headers.get("Retry-After"))
        final = WebhookError(
            BUSY, "The webhook answered 429 (too many requests).", status_code=status
        )
        if wait_s is None:
            raise final
        raise _Retryable(final, wait_s=wait_s)
    if status in RETRY_STATUSES:
        raise _Retryable(
            WebhookError(
                UNAVAILABLE,
                f"The webhook answered {status}: {_excerpt(text)}",
                status_code=status,
                status=status,
            )
        )
    if status == 410:
        raise WebhookError(
            MISCONFIGURED,
            "The Make.com webhook is disabled (410): Make turns a webhook off after 5 days "
            "without an active scenario. Re-enable the scenario, or create a new webhook and "
            "update CODEGEN_WEBHOOK_URL.",
            status_code=status,
        )
    if status in (401, 403):
        raise WebhookError(
            MISCONFIGURED,
            f"The webhook refuses the API key ({status}): check CODEGEN_WEBHOOK_API_KEY "
            "(sent as the x-make-apikey header).",
            status_code=status,
        )
    if status == 500 and text.lower() == SCENARIO_FAILED_BODY:
        raise WebhookError(
            UNAVAILABLE,
            "The Make.com scenario failed before answering (500): see its execution history "
            "in Make.",
            status_code=status,
            status=status,
        )
    if not 200 <= status < 300:
        raise WebhookError(
            UNAVAILABLE,
            f"The webhook answered {status}: {_excerpt(text)}",
            status_code=status,
            status=status,
        )
    if text.lower() == ACCEPTED_BODY:
        raise WebhookError(
            MISCONFIGURED,
            'The webhook only acknowledged the question ("Accepted"): the Make.com scenario '
            'has no "Webhook response" module. Add one that returns the model\'s text.',
            status_code=status,
        )
    try:
        answer = _answer_text(text, content_type=content_type.lower())
    except ValueError as error:
        # A proxy's page or a body cut short, not the scenario's answer: retried like a 502.
        raise _Retryable(
            WebhookError(
                UNREADABLE,
                f"The webhook's {status} is not an answer (HTML page or cut JSON): "
                f"{_excerpt(text)}",
                status_code=status,
            )
        ) from error
    if not answer:
        raise WebhookError(
            REPLY_EMPTY, f"The webhook answered {status} without any text.", status_code=status
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


def _retry_after_s(value: str | None) -> float | None:
    """Seconds asked by a Retry-After header (delta-seconds or HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())
