"""Writes on questions: create, send to the LLM, send again.

A question is saved (pending) before the outside call and updated after it, answered or
failed, so nothing is lost when the LLM side fails. The call runs in the request (an answer
is expected within CODEGEN_TIMEOUT_S), so a per-process cap on calls in flight keeps a burst
of slow questions from taking every gunicorn thread.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from codegen import backends
from codegen.models import Question
from codegen.parser import reply_parse
from codegen.rendering import explanation_render
from codegen.selectors import question_quota_remaining
from codegen.webhook import WebhookError
from platform_site.gemini import GeminiError
from platform_site.slots import ProcessSlots

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    """The user has used up today's questions."""


class TooManyInFlight(Exception):
    """This process already waits on CODEGEN_MAX_IN_FLIGHT answers."""


class SendLimitReached(Exception):
    """The question was sent CODEGEN_MAX_SENDS times already."""


in_flight = ProcessSlots("CODEGEN_MAX_IN_FLIGHT")


@transaction.atomic
def question_create(*, user: User, message: str) -> Question:
    """Save a pending question, within the user's daily quota."""
    # Locking the user's row makes concurrent questions of one user count one after another.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if question_quota_remaining(user=user) == 0:
        raise QuotaExceeded
    question = Question(user=user, message=message, backend=settings.CODEGEN_BACKEND)
    question.full_clean()
    question.save()
    return question


def question_send(*, question: Question) -> Question:
    """Ask the LLM a pending question and record the outcome.

    Raises TooManyInFlight, or the backend wrapper's own exception (`WebhookError`,
    `GeminiError` families), after the question has been saved as failed.
    """
    if not in_flight.try_acquire():
        _question_finish(
            question,
            status=Question.Status.FAILED,
            error=_(
                "Trop de questions sont en cours sur le serveur : renvoyez-la dans un instant."
            ),
        )
        raise TooManyInFlight
    try:
        question.sent_at = timezone.now()
        question.attempts = F("attempts") + 1
        question.save(update_fields=["sent_at", "attempts"])
        question.refresh_from_db(fields=["attempts"])
        started = time.monotonic()
        try:
            reply = backends.reply_fetch(backend=question.backend, message=question.message)
        except (WebhookError, GeminiError) as error:
            logger.warning("codegen question %s failed: %r", question.pk, error)
            _question_finish(
                question,
                status=Question.Status.FAILED,
                error=backends.error_message(error),
                latency_ms=_elapsed_ms(started),
            )
            raise
        latency_ms = _elapsed_ms(started)
    finally:
        in_flight.release()
    parsed = reply_parse(reply)
    _question_finish(
        question,
        status=Question.Status.ANSWERED,
        reply=reply,
        code=parsed.code,
        explanation=parsed.explanation,
        latency_ms=latency_ms,
    )
    return question


def question_ask(*, user: User, message: str) -> Question:
    """Create and send a question in one go (the page's form when JavaScript is off)."""
    return question_send(question=question_create(user=user, message=message))


def question_retry(*, question: Question) -> Question:
    """Send a failed (or interrupted) question again, through the backend configured now."""
    if question.is_interrupted:
        _question_finish(
            question,
            status=Question.Status.FAILED,
            error=_("L'envoi a été interrompu avant la réponse."),
        )
    if question.sends_left <= 0:
        raise SendLimitReached(
            _(
                "Cette question a déjà été envoyée %(count)d fois : reformulez-la et posez-la "
                "de nouveau."
            )
            % {"count": question.attempts}
        )
    question.check_transition(Question.Status.PENDING)
    question.status = Question.Status.PENDING
    question.backend = settings.CODEGEN_BACKEND
    question.error = ""
    question.finished_at = None
    question.save(update_fields=["status", "backend", "error", "finished_at"])
    return question_send(question=question)


def _question_finish(
    question: Question,
    *,
    status: str,
    reply: str = "",
    code: str = "",
    explanation: str = "",
    error: str = "",
    latency_ms: int | None = None,
) -> None:
    question.check_transition(status)
    question.status = status
    question.reply = reply
    question.code = code
    question.explanation = explanation
    question.explanation_html = explanation_render(explanation) if explanation else ""
    question.error = error
    question.latency_ms = latency_ms
    question.finished_at = timezone.now()
    question.save(
        update_fields=[
            "status", "reply", "code", "explanation", "explanation_html", "error",
            "latency_ms", "finished_at",
        ]
    )  # fmt: skip


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
