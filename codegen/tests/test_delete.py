"""Deleting one code question (issue 34): the student's own, for good, never a quota refill."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from codegen.models import Question
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory, QuestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quota(settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 20


def yesterday(question: Question) -> Question:
    Question.objects.filter(pk=question.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1, hours=1)
    )
    return question


def test_a_student_deletes_an_earlier_question_with_its_answer(
    logged_in: Client, user: User
) -> None:
    question = yesterday(AnsweredQuestionFactory.create(user=user, charged=True))

    response = logged_in.post(f"/codegen/{question.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == "/codegen/history/"
    assert not Question.objects.filter(pk=question.pk).exists()


def test_an_uncharged_failure_of_today_can_be_deleted(logged_in: Client, user: User) -> None:
    question = FailedQuestionFactory.create(user=user)

    logged_in.post(f"/codegen/{question.pk}/delete/")

    assert not Question.objects.filter(pk=question.pk).exists()


@pytest.mark.parametrize(
    "make",
    [
        lambda user: AnsweredQuestionFactory.create(user=user, charged=True),
        lambda user: QuestionFactory.create(user=user),
    ],
    ids=["counted today", "pending"],
)
def test_a_question_that_counts_today_or_waits_stays(
    logged_in: Client, user: User, make: Any
) -> None:
    question = make(user)

    response = logged_in.post(f"/codegen/{question.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == f"/codegen/{question.pk}/"
    assert Question.objects.filter(pk=question.pk).exists()


def test_nobody_deletes_another_students_question(logged_in: Client, other_user: User) -> None:
    question = yesterday(AnsweredQuestionFactory.create(user=other_user))

    assert logged_in.post(f"/codegen/{question.pk}/delete/").status_code == 404
    assert logged_in.get(f"/codegen/{question.pk}/delete/").status_code in (404, 405)
    assert Question.objects.filter(pk=question.pk).exists()


def test_the_question_page_offers_the_delete_button(logged_in: Client, user: User) -> None:
    question = AnsweredQuestionFactory.create(user=user)

    page = logged_in.get(f"/codegen/{question.pk}/").content.decode()

    assert f'action="/codegen/{question.pk}/delete/"' in page
