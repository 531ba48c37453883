"""Questions of one user at the same moment never pass the last unit of the daily quota."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from accounts.tests.factories import UserFactory
from codegen import services
from codegen.models import Question
from codegen.services import QuotaExceeded, question_create
from tests.concurrency import needs_row_locks, run_at_once, slowed

pytestmark = needs_row_locks


@pytest.fixture(autouse=True)
def _configured_and_slowed(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Created, never sent: the URL only makes the backend count as configured.
    settings.CODEGEN_WEBHOOK_URL = "http://127.0.0.1:9/never-called"
    monkeypatch.setattr(
        services, "question_quota_remaining", slowed(services.question_quota_remaining)
    )


def test_two_questions_at_once_on_the_last_unit_save_one(settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 2
    user = UserFactory.create()
    Question.objects.create(user=user, message="la veille du quota", charged=True)

    outcomes = run_at_once(
        [partial(question_create, user=user, message=f"question {n}") for n in range(2)]
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Question", "QuotaExceeded"]
    assert Question.objects.filter(user=user).count() == 2


def test_many_questions_at_once_never_exceed_the_quota(settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 3
    user = UserFactory.create()

    outcomes = run_at_once(
        [partial(question_create, user=user, message=f"question {n}") for n in range(6)]
    )

    assert sum(isinstance(outcome, QuotaExceeded) for outcome in outcomes) == 3
    assert Question.objects.filter(user=user).count() == 3
