"""Writes on questions: create, send to the LLM, send again.

A question is saved (pending) before the outside call and updated after it, answered or
failed, so nothing is lost when the LLM side fails. The call runs in the request (an answer
is expected within CODEGEN_TIMEOUT_S), so a per-process cap on calls in flight keeps a burst
of slow questions from taking every gunicorn thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from codegen import backends
from codegen.models import BUSY, INTERRUPTED, InvalidTransition, Question
from codegen.parser import reply_parse
from codegen.rendering import explanation_render
from codegen.selectors import question_quota_remaining
from platform_site.core.db_connections import connection_release_for_wait
from platform_site.core.failures import Failure
from platform_site.core.quotas import limit_reached
from platform_site.core.slots import ProcessSlots
from platform_site.llm.errors import LlmError

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    """The user has used up today's questions."""


class BackendNotConfigured(Exception):
    """No LLM is configured: nothing is saved, nothing is counted."""


class RetryCannotSucceed(Exception):
    """The question failed in a way sending it again would repeat (see its failure kind)."""


class TooManyInFlight(Exception):
    """This process already waits on CODEGEN_MAX_IN_FLIGHT answers."""


class SendLimitReached(Exception):
    """The question was sent CODEGEN_MAX_SENDS times already."""


in_flight = ProcessSlots("CODEGEN_MAX_IN_FLIGHT")


def question_create(*, user: User, message: str) -> Question:
    """Save a pending question, within the user's daily quota, if a backend is configured.

    It is saved as being sent (one send, `sent_at` now): the caller hands it to
    `question_send` or `question_send_streamed` at once, and a process that dies before the
    answer is recorded leaves it pending until it counts as interrupted. Claiming the send
    in the INSERT saves an UPDATE per question (docs/performance.md).
    """
    _require_backend()
    question = Question(
        user=user,
        message=message,
        backend=settings.CODEGEN_BACKEND,
        attempts=1,
        sent_at=timezone.now(),
    )
    # The user is the one logged in: checking that the row exists would be one more query.
    question.full_clean(exclude=["user"])
    if settings.CODEGEN_DAILY_QUOTA <= 0:
        # No quota, nothing to count: one INSERT, no transaction to open and commit.
        question.save()
        return question
    with transaction.atomic():
        if limit_reached(user_id=user.pk, remaining=lambda: question_quota_remaining(user=user)):
            raise QuotaExceeded
        question.save()
    return question


def question_send(*, question: Question) -> Question:
    """Send a question `question_create` just returned and record the outcome.

    Raises TooManyInFlight (the question is saved failed, never sent, so the daily quota
    does not count it), or `LlmError` after the question has been saved as failed with the
    error's `failure` (which says whether the call cost something, hence counts in the
    quota).
    """
    if not in_flight.try_acquire():
        _question_busy(question)
        raise TooManyInFlight
    try:
        reply, latency_ms = _call(question)
    finally:
        in_flight.release()
    _question_answered(question, reply=reply, latency_ms=latency_ms)
    return question


def _question_busy(question: Question) -> None:
    """Failed before any call: never sent after all, so no send is spent and nothing counted."""
    question.attempts, question.sent_at = 0, None
    _question_finish(question, status=Question.Status.FAILED, failure=BUSY.failure())


def question_send_streamed(*, question: Question) -> Iterator[str]:
    """`question_send` through the model server's stream: yields the answer's pieces as they
    come, then records the outcome. Lazy: nothing happens before the first `next()`.

    Raises (from the iteration) TooManyInFlight or LlmError after the question has
    been saved as failed, as question_send does.
    """
    if not in_flight.try_acquire():
        _question_busy(question)
        raise TooManyInFlight
    try:
        connection_release_for_wait()
        started = time.monotonic()
        stream = backends.reply_stream(message=question.message)
        try:
            yield from stream
            reply = backends.stream_text(stream)
        except LlmError as error:
            _question_failed(question, error, started=started)
            raise
        latency_ms = _elapsed_ms(started)
    finally:
        # Also when the browser goes away mid-answer (the server closes this generator): the
        # question then stays pending until it counts as interrupted, and can be resent.
        in_flight.release()
    _question_answered(question, reply=reply, latency_ms=latency_ms)


def question_retry(*, question: Question) -> Question:
    """Send a failed (or interrupted) question again, through the backend configured now.

    The send is claimed by one conditional UPDATE (failed, fewer than CODEGEN_MAX_SENDS
    sends -> pending, one more send), so parallel retries of one question make at most the
    allowed number of paid calls, whatever the number of processes. Raises InvalidTransition
    (not failed, or being sent right now), SendLimitReached, RetryCannotSucceed (its failure
    would repeat), BackendNotConfigured, QuotaExceeded (a question whose failure cost nothing
    was not counted: it needs room in today's quota now), TooManyInFlight (nothing changed).
    """
    _require_backend()
    if question.is_interrupted:
        Question.objects.filter(
            pk=question.pk, status=Question.Status.PENDING, sent_at=question.sent_at
        ).update(
            status=Question.Status.FAILED,
            error_code=INTERRUPTED.code,
            error_params={},
            error_detail="",
            finished_at=timezone.now(),
        )
        question.refresh_from_db()
    if question.sends_left <= 0:
        raise _send_limit_reached(question)
    question.check_transition(Question.Status.PENDING)
    if not question.error_retryable:
        raise RetryCannotSucceed
    if not in_flight.try_acquire():
        raise TooManyInFlight
    try:
        with transaction.atomic():
            # A failure that cost nothing was not counted: it counts from now on.
            if not question.charged and limit_reached(
                user_id=question.user_id,
                remaining=lambda: question_quota_remaining(user=question.user),
            ):
                raise QuotaExceeded
            claimed = Question.objects.filter(
                pk=question.pk,
                status=Question.Status.FAILED,
                attempts__lt=settings.CODEGEN_MAX_SENDS,
            ).update(
                status=Question.Status.PENDING,
                backend=settings.CODEGEN_BACKEND,
                error_code="",
                error_params={},
                error_detail="",
                charged=True,
                finished_at=None,
                attempts=F("attempts") + 1,
                sent_at=timezone.now(),
            )
        question.refresh_from_db()
        if not claimed:
            # Another request claimed it first: pending now, or failed with no send left.
            if question.status == Question.Status.FAILED:
                raise _send_limit_reached(question)
            raise InvalidTransition("This question is being sent already.")
        reply, latency_ms = _call(question)
    finally:
        in_flight.release()
    _question_answered(question, reply=reply, latency_ms=latency_ms)
    return question


def _call(question: Question) -> tuple[str, float]:
    """The LLM's reply to a claimed (pending) question and the call's duration in ms."""
    connection_release_for_wait()
    started = time.monotonic()
    try:
        reply = backends.reply_fetch(backend=question.backend, message=question.message)
    except LlmError as error:
        _question_failed(question, error, started=started)
        raise
    return reply, _elapsed_ms(started)


def _question_failed(question: Question, error: LlmError, *, started: float) -> None:
    """Record a model call's failure (its `failure` says whether the call cost)."""
    logger.warning("codegen question %s failed: %r", question.pk, error)
    _question_finish(
        question,
        status=Question.Status.FAILED,
        failure=error.failure,
        latency_ms=_elapsed_ms(started),
    )


def _question_answered(question: Question, *, reply: str, latency_ms: float) -> None:
    parsed = reply_parse(reply)
    _question_finish(
        question,
        status=Question.Status.ANSWERED,
        reply=reply,
        code=parsed.code,
        explanation=parsed.explanation,
        latency_ms=latency_ms,
    )


def _send_limit_reached(question: Question) -> SendLimitReached:
    return SendLimitReached(
        _(
            "Cette question a déjà été envoyée %(count)d fois : reformulez-la et posez-la "
            "de nouveau."
        )
        % {"count": question.attempts}
    )


def _question_finish(
    question: Question,
    *,
    status: str,
    reply: str = "",
    code: str = "",
    explanation: str = "",
    failure: Failure | None = None,
    latency_ms: float | None = None,
) -> None:
    question.check_transition(status)
    question.status = status
    question.reply = reply
    question.code = code
    question.explanation = explanation
    question.explanation_html = explanation_render(explanation) if explanation else ""
    if failure is None:
        question.failure_clear()
    else:
        question.failure_set(failure)
    question.latency_ms = latency_ms
    question.finished_at = timezone.now()
    question.save(
        update_fields=[
            "status", "reply", "code", "explanation", "explanation_html", "latency_ms",
            # The send's own fields too: a question failed busy was never sent after all.
            "finished_at", "attempts", "sent_at", *Question.FAILURE_FIELDS,
        ]
    )  # fmt: skip


def _require_backend() -> None:
    if not backends.backend_configured():
        logger.warning(
            "codegen: no backend configured (CODEGEN_BACKEND=%s): set %s",
            settings.CODEGEN_BACKEND,
            backends.missing_setting(),
        )
        raise BackendNotConfigured


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)
