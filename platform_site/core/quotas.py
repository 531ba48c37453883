"""Counted limits, shared by both tools: what a user has left, counted one request at a time.

A limit is counted and then a row is inserted; two requests of one user running at once would
both count the same number and both pass the last unit. `limit_reached` takes a lock on the
user's row first, so the requests of one user count one after another; the caller inserts the
counted row in the same transaction, before the lock is released at commit. Every charged path
(a question, an upload, a retry, a repair, an edit) goes through it.

Locks are always taken in the same order, a conversion's row (where one is locked) before the
user's, so two paths never wait on each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone


def limit_reached(*, user_id: int, remaining: Callable[[], int | None]) -> bool:
    """Whether `remaining()` (None: no limit) is used up, counted under the user's row lock.

    Call inside `transaction.atomic()` and insert the counted row in that same transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the lock would be released before the insert: no protection.
        raise RuntimeError("limit_reached must run inside transaction.atomic()")
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk").first()
    return remaining() == 0


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
