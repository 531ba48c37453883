"""Where a question goes: the Make.com webhook or Gemini, per CODEGEN_BACKEND.

Each backend returns the LLM's raw text or raises its wrapper's own exceptions
(`codegen.webhook.WebhookError` family, `platform_site.gemini.GeminiError` family), which the
views map to status codes. This module builds no request itself.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from codegen import webhook
from codegen.models import Question
from platform_site import gemini

# Asks for the shape the parser reads best; the parser copes with the others.
GEMINI_SYSTEM_INSTRUCTION = (
    "Tu es un enseignant de programmation Python. Réponds à la demande de l'étudiant par "
    "exactement un bloc de code délimité par ```python et ```, complet et commenté en "
    "français, puis une ligne « Explication : » suivie d'une explication claire en français "
    "(Markdown simple autorisé, sans HTML)."
)


class GeminiAnswerUnusable(gemini.GeminiError):
    """Gemini answered, but with no text or an answer cut by its output limit."""


def reply_fetch(*, backend: str, message: str) -> str:
    """The LLM's whole reply to `message` through `backend`."""
    if backend == Question.Backend.GEMINI:
        return _gemini_reply(message)
    return webhook.send(message=message)


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
    return bool(settings.CODEGEN_WEBHOOK_URL)
