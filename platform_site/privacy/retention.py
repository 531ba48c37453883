"""Retention: what is older than its period (settings RETENTION_*, docs/data.md) is deleted.

It spans every app, so it lives in the shell, which may import them all. Each kind is deleted
in small batches, each its own short transaction, so the daily purge never holds long locks
while students use the site; a conversion's PDF chunks, versions and repair requests go with
it (foreign keys with ON DELETE CASCADE in Django's collector).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.db.models import Q

from accounts.models import RegistrationAttempt, Student, User
from codegen.models import Question
from latexocr.models import Conversion
from platform_site.models import AccountExport, StaffAccess

# Conversions carry up to 20 MB of chunks each: fewer per batch than small rows.
BATCH_SIZE = 500
CONVERSION_BATCH_SIZE = 20


@dataclass(frozen=True)
class ExpiredKind:
    """One kind of data, the rows of it that have expired at a given time, and how they go."""

    name: str
    expired: Callable[[datetime.datetime], models.QuerySet[models.Model]]
    batch_size: int | None = None  # None: BATCH_SIZE
    # None: delete the rows; otherwise the update that removes the personal field.
    clear: dict[str, object] | None = None


def _days(name: str) -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, name))


def _inactive_accounts(now: datetime.datetime) -> models.QuerySet[models.Model]:
    cutoff = now - _days("RETENTION_INACTIVE_ACCOUNTS_DAYS")
    never_used = Q(last_login__isnull=True, date_joined__lt=cutoff)
    # Staff accounts are the university's, not students': they are managed by hand.
    return User.objects.filter(
        Q(last_login__lt=cutoff) | never_used, is_staff=False, is_superuser=False
    )


def _birth_dates(now: datetime.datetime) -> models.QuerySet[models.Model]:
    window_ended = Q(user__date_joined__lt=now - _days("RETENTION_FIRST_LOGIN_DAYS"))
    return Student.objects.filter(
        Q(must_change_password=False) | window_ended, birth_date__isnull=False
    )


def _login_cutoff(now: datetime.datetime) -> datetime.datetime:
    return now - _days("RETENTION_LOGIN_RECORDS_DAYS")


# Accounts first: their questions and conversions go with them, and are not counted twice.
KINDS = (
    ExpiredKind("inactive accounts", _inactive_accounts),
    ExpiredKind(
        "questions",
        lambda now: Question.objects.filter(created_at__lt=now - _days("RETENTION_QUESTIONS_DAYS")),
    ),
    ExpiredKind(
        "conversions",
        lambda now: Conversion.objects.filter(
            created_at__lt=now - _days("RETENTION_CONVERSIONS_DAYS")
        ),
        batch_size=CONVERSION_BATCH_SIZE,
    ),
    ExpiredKind("birth dates", _birth_dates, clear={"birth_date": None}),
    ExpiredKind(
        "failed logins",
        lambda now: AccessFailureLog.objects.filter(attempt_time__lt=_login_cutoff(now)),
    ),
    ExpiredKind(
        "lockout attempts",
        lambda now: AccessAttempt.objects.filter(attempt_time__lt=_login_cutoff(now)),
    ),
    ExpiredKind(
        "access logs",
        lambda now: AccessLog.objects.filter(attempt_time__lt=_login_cutoff(now)),
    ),
    ExpiredKind(
        "sign-up attempts",
        lambda now: RegistrationAttempt.objects.filter(created_at__lt=_login_cutoff(now)),
    ),
    ExpiredKind(
        "staff access records",
        lambda now: StaffAccess.objects.filter(at__lt=now - _days("RETENTION_STAFF_ACCESS_DAYS")),
    ),
    # A prepared "download everything" past its link (or never built): many MB of
    # chunks each, so few per batch.
    ExpiredKind(
        "data exports",
        lambda now: AccountExport.objects.filter(expires_at__lt=now),
        batch_size=CONVERSION_BATCH_SIZE,
    ),
    # Expired sessions hold nothing usable; Django's clearsessions, done here in batches.
    ExpiredKind("sessions", lambda now: Session.objects.filter(expire_date__lt=now)),
)


def expired_counts(*, now: datetime.datetime) -> dict[str, int]:
    """How many rows of each kind have expired at `now` (what a dry run prints)."""
    return {kind.name: kind.expired(now).count() for kind in KINDS}


def expired_purge(*, now: datetime.datetime) -> dict[str, int]:
    """Delete (or clear) everything expired at `now`, batch by batch; the count per kind."""
    done = {}
    for kind in KINDS:
        count = 0
        while True:
            expired = kind.expired(now).order_by("pk").values_list("pk", flat=True)
            keys = list(expired[: kind.batch_size or BATCH_SIZE])
            if not keys:
                break
            with transaction.atomic():
                # Re-checked inside the batch: a row used since the read (a login) stays.
                batch = kind.expired(now).filter(pk__in=keys)
                if kind.clear is None:
                    _, per_model = batch.delete()
                    count += per_model.get(batch.model._meta.label, 0)
                else:
                    count += batch.update(**kind.clear)
        done[kind.name] = count
    return done
