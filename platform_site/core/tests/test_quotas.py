from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from accounts.tests.factories import UserFactory
from codegen.models import Question
from codegen.tests.factories import QuestionFactory
from platform_site.core.quotas import daily_quota_remaining, limit_reached

pytestmark = pytest.mark.django_db

# 23:30 UTC on 24 November is 00:30 on the 25th in Paris: already "today" for a student.
PARIS_JUST_AFTER_MIDNIGHT = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
PARIS_JUST_BEFORE_MIDNIGHT = datetime(2026, 11, 24, 22, 30, tzinfo=UTC)
PARIS_MORNING = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_no_quota_means_no_limit() -> None:
    assert daily_quota_remaining(Question.objects.all(), quota=0) is None


@override_settings(TIME_ZONE="Europe/Paris")
def test_the_day_starts_at_midnight_in_the_sites_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = UserFactory.create()
    for created_at in (PARIS_JUST_BEFORE_MIDNIGHT, PARIS_JUST_AFTER_MIDNIGHT):
        question = QuestionFactory.create(user=user)
        Question.objects.filter(pk=question.pk).update(created_at=created_at)
    monkeypatch.setattr(timezone, "now", lambda: PARIS_MORNING)

    remaining = daily_quota_remaining(Question.objects.filter(user=user), quota=5)

    assert remaining == 4


def test_the_remainder_never_goes_below_zero() -> None:
    user = UserFactory.create()
    QuestionFactory.create_batch(3, user=user)

    assert daily_quota_remaining(Question.objects.filter(user=user), quota=2) == 0


@pytest.mark.django_db(transaction=True)
def test_a_limit_counted_outside_a_transaction_is_refused() -> None:
    # In autocommit the lock would end with its own statement, before the insert.
    user = UserFactory.create()

    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        limit_reached(user_id=user.pk, remaining=lambda: 1)


def test_a_limit_is_counted_after_the_lock_on_the_users_row(
    django_assert_num_queries: Any,
) -> None:
    user = UserFactory.create()

    with transaction.atomic(), django_assert_num_queries(1) as captured:
        reached = limit_reached(user_id=user.pk, remaining=lambda: 0)

    assert reached is True
    lock = captured.captured_queries[0]["sql"]
    assert lock.startswith('SELECT "accounts_user"')
    if connection.vendor == "postgresql":  # SQLite has no row locks (its file lock serialises)
        assert lock.endswith("FOR UPDATE")
