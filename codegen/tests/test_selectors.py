from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from codegen.models import Question
from codegen.selectors import question_get_owned, question_list_recent, question_quota_remaining
from codegen.tests.factories import AnsweredQuestionFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def test_recent_questions_are_the_users_newest_first(user: User, other_user: User) -> None:
    older = QuestionFactory.create(user=user, message="ancienne")
    newer = QuestionFactory.create(user=user, message="récente")
    QuestionFactory.create(user=other_user)

    assert question_list_recent(user=user, limit=5) == [newer, older]
    assert question_list_recent(user=user, limit=1) == [newer]


def test_the_quota_counts_todays_questions_of_the_user_only(
    user: User, other_user: User, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 3
    AnsweredQuestionFactory.create(user=user)
    QuestionFactory.create(user=other_user)
    yesterday = QuestionFactory.create(user=user)
    Question.objects.filter(pk=yesterday.pk).update(
        created_at=timezone.now() - timedelta(days=1, hours=1)
    )

    assert question_quota_remaining(user=user) == 2


def test_the_quota_never_goes_below_zero(user: User, settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1
    QuestionFactory.create_batch(2, user=user)

    assert question_quota_remaining(user=user) == 0


def test_a_zero_quota_means_unlimited(user: User, settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 0

    assert question_quota_remaining(user=user) is None


def test_someone_elses_question_is_not_found(user: User, other_user: User) -> None:
    question = QuestionFactory.create(user=other_user)

    with pytest.raises(Http404):
        question_get_owned(user=user, question_id=question.pk)
