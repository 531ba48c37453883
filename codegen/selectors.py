"""Reads on questions. Lists leave out the raw reply (kept for the admin only)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from codegen import backends
from codegen.models import Question
from platform_site.core.quotas import daily_quota_remaining


def question_list(*, user: User) -> QuerySet[Question]:
    return Question.objects.filter(user=user).defer("reply").order_by("-created_at")


def question_list_recent(*, user: User, limit: int = 5) -> list[Question]:
    """The user's latest questions, newest first (home page)."""
    return list(question_list(user=user)[:limit])


def question_get_owned(*, user: User, question_id: int) -> Question:
    """The user's question, or Http404 — also when it exists but belongs to someone else."""
    return get_object_or_404(Question.objects.defer("reply"), pk=question_id, user=user)


def question_quota_remaining(*, user: User) -> int | None:
    """Questions the user may still ask today (None: no limit). Today is in TIME_ZONE.

    Counted from the saved questions that cost something (`charged`): pending and answered
    ones, and failures after the LLM side did work. A failure before any upstream call
    succeeded (refused, unavailable, timed out, too busy here) is not counted; sending it
    again counts it then. Sending a counted question again does not count anew.
    """
    if settings.CODEGEN_DAILY_QUOTA <= 0:
        return None  # no quota: nothing to count
    return daily_quota_remaining(
        Question.objects.filter(user=user, charged=True), quota=settings.CODEGEN_DAILY_QUOTA
    )


def question_can_be_resent(*, question: Question) -> bool:
    """Whether the page offers to send `question` again (the backend configured now)."""
    return question.can_be_resent(backend_configured=backends.backend_configured())
