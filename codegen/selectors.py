"""Reads on questions. Lists leave out the raw reply (kept for the admin only)."""

from __future__ import annotations

from datetime import datetime, time

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from codegen.models import Question


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

    Counted from the saved questions, failed ones included: each one reached, or was meant
    to reach, the paid LLM side. Sending a failed question again does not count anew.
    """
    quota = settings.CODEGEN_DAILY_QUOTA
    if quota <= 0:
        return None
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    used = Question.objects.filter(user=user, created_at__gte=midnight).count()
    return max(0, quota - used)
