"""Where a question goes: the Make.com webhook, Gemini or a self-hosted model server
(OpenAI-compatible), per CODEGEN_BACKEND.

Each backend returns the LLM's raw text or raises its wrapper's own exceptions
(`codegen.webhook.WebhookError` family, `platform_site.gemini.GeminiError` family,
`platform_site.openai_client.ModelServerError` family), which the views map to status codes.
This module builds no request itself.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from codegen import webhook
from codegen.models import Question
from platform_site import gemini, openai_client

# Asks for the shape the parser reads best; the parser copes with the others.
GEMINI_SYSTEM_INSTRUCTION = (
    "Tu es un enseignant de programmation Python. Réponds à la demande de l'étudiant par "
    "exactement un bloc de code délimité par ```python et ```, complet et commenté en "
    "français, puis une ligne « Explication : » suivie d'une explication claire en français "
    "(Markdown simple autorisé, sans HTML)."
)


class GeminiAnswerUnusable(gemini.GeminiError):
    """Gemini answered, but with no text or an answer cut by its output limit."""


class ModelAnswerUnusable(openai_client.ModelServerError):
    """The model server answered, but with no text or an answer cut by max_tokens."""

    def __init__(self, message: str, *, truncated: bool) -> None:
        super().__init__(message)
        self.truncated = truncated

    def user_message(self) -> str:
        if self.truncated:
            return _(
                "La réponse du modèle a été coupée (limite de longueur) : reformulez plus court."
            )
        return _("Le modèle a répondu sans aucun texte.")


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
    return openai_answer_checked(answer)


def openai_answer_checked(answer: openai_client.ChatAnswer) -> str:
    """The answer's text, or ModelAnswerUnusable when it is cut or empty (as with Gemini)."""
    if answer.truncated:
        raise ModelAnswerUnusable("The answer was cut by max_tokens.", truncated=True)
    if not answer.text.strip():
        raise ModelAnswerUnusable("The answer has no text.", truncated=False)
    return answer.text


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
    if answer.truncated:
        raise GeminiAnswerUnusable(
            _("La réponse de Gemini a été coupée (limite de longueur) : reformulez plus court.")
        )
    if not answer.text.strip():
        raise GeminiAnswerUnusable(_("Gemini a répondu sans aucun texte."))
    return answer.text


def error_message(error: Exception) -> str:
    """What the user is told about a failed call (the Gemini wrapper speaks English)."""
    if isinstance(error, webhook.WebhookError | GeminiAnswerUnusable):
        return str(error)
    if isinstance(error, openai_client.ModelServerError):
        return error.user_message()
    if isinstance(error, gemini.GeminiNotConfigured):
        return _(
            "Gemini n'est pas configuré : l'administrateur doit définir GEMINI_API_KEY "
            "(ou choisir CODEGEN_BACKEND=webhook)."
        )
    if isinstance(error, gemini.GeminiTimeout):
        return _("Gemini n'a pas répondu dans les %(seconds)s secondes prévues.") % {
            "seconds": f"{settings.CODEGEN_TIMEOUT_S:g}"
        }
    if isinstance(error, gemini.GeminiQuotaExhausted):
        return _("Le quota quotidien de Gemini du site est épuisé ; réessayez demain.")
    if isinstance(error, gemini.GeminiBlocked):
        return _("Gemini a refusé de répondre à cette question (%(reason)s).") % {
            "reason": error.finish_reason
        }
    if isinstance(error, gemini.GeminiUpstreamError):
        return _("Gemini a répondu par une erreur (%(status)s).") % {
            "status": error.status_code or _("connexion impossible")
        }
    return _("Le modèle n'a pas pu répondre.")


def backend_configured() -> bool:
    """Whether the chosen backend has what it needs (the page explains the setup if not)."""
    if settings.CODEGEN_BACKEND == Question.Backend.GEMINI:
        return bool(settings.GEMINI_API_KEY)
    if settings.CODEGEN_BACKEND == Question.Backend.OPENAI:
        return openai_client.configured(model=settings.CODEGEN_OPENAI_MODEL)
    return bool(settings.CODEGEN_WEBHOOK_URL)
