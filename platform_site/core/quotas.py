"""Daily quotas, shared by both tools: what a user has left today."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone


def daily_quota_remaining(*created_by_user: QuerySet[Any], quota: int) -> int | None:
    """What is left of `quota` given the user's objects (with `created_at`); None: no limit.

    Several querysets add up (e.g. conversions and the repair rounds asked for).

    Today starts at midnight in TIME_ZONE (the students' day), not in UTC.
    """
    if quota <= 0:
        return None
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    used = sum(objects.filter(created_at__gte=midnight).count() for objects in created_by_user)
    return max(0, quota - used)
