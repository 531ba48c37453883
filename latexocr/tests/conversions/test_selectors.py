from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from latexocr.conversions.selectors import conversion_list_recent, conversion_quota_remaining
from latexocr.models import Conversion
from latexocr.tests.factories import ConversionFactory

pytestmark = pytest.mark.django_db


def test_recent_conversions_are_the_users_newest_first_without_heavy_fields(
    user: User, other_user: User, django_assert_num_queries: Any
) -> None:
    ConversionFactory.create_batch(6, owner=user)
    ConversionFactory.create(owner=other_user)

    with django_assert_num_queries(1):
        recent = conversion_list_recent(user=user, limit=5)

    assert len(recent) == 5
    assert all(c.owner_id == user.pk for c in recent)
    assert [c.created_at for c in recent] == sorted((c.created_at for c in recent), reverse=True)
    # The compiled PDF lives on the versions now, which lists never load.
    assert {"latex"} <= recent[0].get_deferred_fields()


def test_the_quota_counts_todays_conversions_only(user: User, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 3
    ConversionFactory.create(owner=user)
    old = ConversionFactory.create(owner=user)
    Conversion.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))

    assert conversion_quota_remaining(user=user) == 2


def test_a_quota_of_zero_means_unlimited(user: User, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 0

    assert conversion_quota_remaining(user=user) is None
