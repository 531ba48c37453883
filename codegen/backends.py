"""Where a question goes: the model the registry gives codegen (platform_site.llm.registry,
from CODEGEN_BACKEND: the Make.com webhook, Gemini or a self-hosted model server).

Each call returns the model's whole text or raises `LlmError`, whose kind the views map to a
status and whose `failure` is recorded and shown. This module builds no request itself and
reads no provider's settings.
"""

from __future__ import annotations

from platform_site.llm.errors import ANSWER_UNUSABLE, LlmError, answer_text
from platform_site.llm.providers import AnswerStream, Provider, not_configured
from platform_site.llm.registry import provider_for

# Asks for the shape the parser reads best; the parser copes with the others. (A webhook
# scenario carries its own instructions: it gets the question alone.)
SYSTEM_INSTRUCTION = (
    "Tu es un enseignant de programmation Python. Réponds à la demande de l'étudiant par "
    "exactement un bloc de code délimité par ```python et ```, complet et commenté en "
    "français, puis une ligne « Explication : » suivie d'une explication claire en français "
    "(Markdown simple autorisé, sans HTML)."
)


def provider(name: str | None = None) -> Provider:
    """The provider questions go to now (or the one called `name`)."""
    chosen = provider_for("codegen", name)
    if chosen is None:  # codegen has no engine of its own: every backend is a model
        raise LookupError(f"codegen: {name!r} is not a model backend")
    return chosen


def reply_fetch(*, backend: str, message: str) -> str:
    """The model's whole reply to `message` through `backend`."""
    chosen = provider(backend)
    if not chosen.configured():
        raise not_configured(chosen)
    return answer_text(chosen.complete(prompt=message, system=SYSTEM_INSTRUCTION))


def streaming_enabled() -> bool:
    """Whether questions are answered as a stream (the provider streams, and may)."""
    return provider().streams


def reply_stream(*, message: str) -> AnswerStream:
    """The model's answer to `message` as it comes; `.answer` once it is whole."""
    return provider().stream(prompt=message, system=SYSTEM_INSTRUCTION)


def stream_text(stream: AnswerStream) -> str:
    """The whole streamed answer's text, checked as a non-streamed one is."""
    if stream.answer is None:
        raise LlmError(ANSWER_UNUSABLE, "The stream ended without an answer.")
    return answer_text(stream.answer)


def backend_configured() -> bool:
    """Whether the chosen backend has what it needs (else the form is disabled)."""
    return provider().configured()


def missing_setting() -> str:
    """What an operator must set for questions to work (shown to staff only, and logged)."""
    return provider().missing_setting()
