"""Where a question goes: the Make.com webhook, Gemini or a self-hosted model server
(OpenAI-compatible), per CODEGEN_BACKEND.

Each backend returns the LLM's raw text or raises its wrapper's own exceptions
(`platform_site.llm.webhook.WebhookError` family, `platform_site.llm.gemini.GeminiError` family,
`platform_site.llm.openai_client.ModelServerError` family), which carry what the user reads
(`error.failure`) and which the views map to status codes. This module builds no request
itself and reads no wrapper's settings.
"""

from __future__ import annotations

from django.conf import settings

from codegen.models import Question
from platform_site.llm import gemini, openai_client, webhook

# Asks for the shape the parser reads best; the parser copes with the others.
GEMINI_SYSTEM_INSTRUCTION = (
    "Tu es un enseignant de programmation Python. Réponds à la demande de l'étudiant par "
    "exactement un bloc de code délimité par ```python et ```, complet et commenté en "
    "français, puis une ligne « Explication : » suivie d'une explication claire en français "
    "(Markdown simple autorisé, sans HTML)."
)

# What a backend raises; each carries the `failure` to record and show.
UPSTREAM_ERRORS = (webhook.WebhookError, gemini.GeminiError, openai_client.ModelServerError)
UpstreamError = webhook.WebhookError | gemini.GeminiError | openai_client.ModelServerError


def reply_fetch(*, backend: str, message: str) -> str:
    """The LLM's whole reply to `message` through `backend`."""
    if backend == Question.Backend.GEMINI:
        return _gemini_reply(message)
    if backend == Question.Backend.OPENAI:
        return _openai_reply(message)
    return webhook.send(message=message)


# A 429 or 5xx means the server did not take the question: one more attempt is safe, within
# the same CODEGEN_TIMEOUT_S (a timeout is never retried: no time would be left).
OPENAI_ATTEMPTS = 2


def _openai_reply(message: str) -> str:
    answer = openai_client.chat(
        model=settings.CODEGEN_OPENAI_MODEL,
        prompt=message,
        system=GEMINI_SYSTEM_INSTRUCTION,
        timeout_s=settings.CODEGEN_TIMEOUT_S,
        deadline_s=settings.CODEGEN_TIMEOUT_S,
        attempts=OPENAI_ATTEMPTS,
    )
    return openai_client.answer_text(answer)


def streaming_enabled() -> bool:
    """Whether questions are answered as a stream (the openai backend, CODEGEN_OPENAI_STREAM)."""
    return settings.CODEGEN_BACKEND == Question.Backend.OPENAI and settings.CODEGEN_OPENAI_STREAM


def reply_stream(*, message: str) -> openai_client.ChatStream:
    """The model server's answer to `message` as it comes; `.answer` once it is whole."""
    return openai_client.chat_stream(
        model=settings.CODEGEN_OPENAI_MODEL,
        prompt=message,
        system=GEMINI_SYSTEM_INSTRUCTION,
        timeout_s=settings.CODEGEN_TIMEOUT_S,
        attempts=OPENAI_ATTEMPTS,
    )


def stream_text(stream: openai_client.ChatStream) -> str:
    """The whole streamed answer's text, checked as a non-streamed one is."""
    if stream.answer is None:
        raise openai_client.ModelAnswerUnusable("The stream ended without an answer.")
    return openai_client.answer_text(stream.answer)


def _gemini_reply(message: str) -> str:
    # One attempt: a second one after a timeout would send the same question twice and
    # could not finish within CODEGEN_TIMEOUT_S anyway.
    answer = gemini.generate(
        model=settings.CODEGEN_GEMINI_MODEL,
        prompt=message,
        system_instruction=GEMINI_SYSTEM_INSTRUCTION,
        timeout_s=settings.CODEGEN_TIMEOUT_S,
        attempts=1,
    )
    return gemini.answer_text(answer)


def backend_configured() -> bool:
    """Whether the chosen backend has what it needs (else the form is disabled)."""
    if settings.CODEGEN_BACKEND == Question.Backend.GEMINI:
        return gemini.is_configured()
    if settings.CODEGEN_BACKEND == Question.Backend.OPENAI:
        return openai_client.configured(model=settings.CODEGEN_OPENAI_MODEL)
    return webhook.is_configured()


def missing_setting() -> str:
    """What an operator must set for questions to work (shown to staff only, and logged)."""
    if settings.CODEGEN_BACKEND == Question.Backend.GEMINI:
        return gemini.missing_setting()
    if settings.CODEGEN_BACKEND == Question.Backend.OPENAI:
        return "OPENAI_BASE_URL, CODEGEN_OPENAI_MODEL"
    return webhook.missing_setting()
