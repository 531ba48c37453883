"""Which model each tool asks, chosen from settings in this one place.

Like Django's CACHES or TASKS, the apps name what they need (`provider_for("codegen")`) and
get a ready provider; they never compare backend names. The settings keep the names they
have always had (CODEGEN_BACKEND, LATEXOCR_BACKEND, CODEGEN_*, LATEXOCR_*, GEMINI_*,
OPENAI_*); they are read at each call, so a changed setting (a test, an operator's
override) applies to the next call.

`latexocr`'s "local" engine is not a model: `provider_for("latexocr")` gives None for it and
the app runs its own engine.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings

from platform_site.llm import gemini, openai_client, webhook
from platform_site.llm.providers import (
    GeminiProvider,
    Limits,
    OpenAIProvider,
    Provider,
    WebhookProvider,
)

type Tool = Literal["codegen", "latexocr"]

# LaTeX OCR's whole output budget on Gemini (thinking included): a range is split when it
# overflows. Transcription needs little reasoning: LOW keeps thinking from eating the budget.
LATEXOCR_GEMINI_MAX_OUTPUT_TOKENS = 65_536
LATEXOCR_GEMINI_THINKING = "LOW"
# A 429 or 5xx means the model server did not take the question: one more attempt is safe,
# within the same CODEGEN_TIMEOUT_S (a timeout is never retried: no time would be left).
CODEGEN_OPENAI_ATTEMPTS = 2


def provider_for(tool: Tool, name: str | None = None) -> Provider | None:
    """The provider `tool` uses now (its *_BACKEND setting), or the one called `name` (a
    record's own, when it is resent); None when that backend is not a model ("local")."""
    if tool == "codegen":
        return _codegen(name or settings.CODEGEN_BACKEND)
    return _latexocr(name or settings.LATEXOCR_BACKEND)


def repair_backend_name(*, conversion_backend: str) -> str:
    """The model a repair of a conversion's LaTeX goes to: the self-hosted one for its own
    documents and for every document on a site that runs on it (no Gemini there); else Gemini
    (the local engine's documents too: it is no model)."""
    if "openai" in (conversion_backend, settings.LATEXOCR_BACKEND):
        return "openai"
    return "gemini"


def backend_name(tool: Tool) -> str:
    """The backend `tool` is set to, as stored on its records."""
    return str(settings.CODEGEN_BACKEND if tool == "codegen" else settings.LATEXOCR_BACKEND)


def gemini_connection() -> gemini.Connection:
    return gemini.Connection(
        api_key=settings.GEMINI_API_KEY,
        base_url=settings.GEMINI_BASE_URL,
        inline_pdf_max_mb=settings.GEMINI_INLINE_PDF_MAX_MB,
        retry_base_s=settings.GEMINI_RETRY_BASE_S,
        retry_max_s=settings.GEMINI_RETRY_MAX_S,
    )


def openai_connection() -> openai_client.Connection:
    return openai_client.Connection(
        base_url=settings.OPENAI_BASE_URL,
        api_key=settings.OPENAI_API_KEY,
        retry_base_s=settings.OPENAI_RETRY_BASE_S,
        retry_max_s=settings.OPENAI_RETRY_MAX_S,
    )


def webhook_call() -> webhook.WebhookCall:
    return webhook.WebhookCall(
        url=settings.CODEGEN_WEBHOOK_URL,
        api_key=settings.CODEGEN_WEBHOOK_API_KEY,
        timeout_s=settings.CODEGEN_TIMEOUT_S,
        backoff_s=settings.CODEGEN_RETRY_BACKOFF_S,
    )


def _codegen(name: str) -> Provider:
    timeout_s = settings.CODEGEN_TIMEOUT_S
    if name == "gemini":
        # One attempt: a second one after a timeout would send the same question twice and
        # could not finish within CODEGEN_TIMEOUT_S anyway.
        return GeminiProvider(
            model=settings.CODEGEN_GEMINI_MODEL,
            limits=Limits(timeout_s=timeout_s),
            connection=gemini_connection(),
            thinking=None,
        )
    if name == "openai":
        return OpenAIProvider(
            model=settings.CODEGEN_OPENAI_MODEL,
            limits=Limits(
                timeout_s=timeout_s, attempts=CODEGEN_OPENAI_ATTEMPTS, deadline_s=timeout_s
            ),
            connection=openai_connection(),
            missing="OPENAI_BASE_URL, CODEGEN_OPENAI_MODEL",
            streams=settings.CODEGEN_OPENAI_STREAM,
            pages_per_call=1,
        )
    return WebhookProvider(call=webhook_call())


def _latexocr(name: str) -> Provider | None:
    timeout_s = settings.LATEXOCR_CALL_TIMEOUT_S
    attempts = settings.LATEXOCR_MAX_ATTEMPTS
    if name == "gemini":
        return GeminiProvider(
            model=settings.LATEXOCR_GEMINI_MODEL,
            limits=Limits(
                timeout_s=timeout_s,
                attempts=attempts,
                max_output_tokens=LATEXOCR_GEMINI_MAX_OUTPUT_TOKENS,
            ),
            connection=gemini_connection(),
            thinking=LATEXOCR_GEMINI_THINKING,
        )
    if name == "openai":
        return OpenAIProvider(
            model=settings.LATEXOCR_OPENAI_MODEL,
            limits=Limits(
                timeout_s=timeout_s,
                attempts=attempts,
                max_output_tokens=settings.LATEXOCR_OPENAI_MAX_TOKENS,
            ),
            connection=openai_connection(),
            missing="OPENAI_BASE_URL, LATEXOCR_OPENAI_MODEL",
            streams=False,
            pages_per_call=max(1, settings.LATEXOCR_OPENAI_PAGES_PER_CALL),
        )
    return None
