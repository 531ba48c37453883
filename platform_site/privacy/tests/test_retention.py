from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import RegistrationAttempt, Student, User
from accounts.tests.factories import StudentFactory, UserFactory
from codegen.models import Question
from codegen.tests.factories import AnsweredQuestionFactory
from latexocr.models import Conversion, PdfChunk, RepairRequest, Version
from latexocr.tests.factories import ConversionFactory
from platform_site.privacy.retention import expired_counts, expired_purge

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime.datetime(2027, 3, 15, 12, 0, 0))
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _retention(settings: Any) -> None:
    settings.RETENTION_QUESTIONS_DAYS = 365
    settings.RETENTION_CONVERSIONS_DAYS = 200
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 730
    settings.RETENTION_LOGIN_RECORDS_DAYS = 180
    settings.RETENTION_FIRST_LOGIN_DAYS = 120


def aged(model: type[Model], pk: object, field: str, age: datetime.timedelta) -> None:
    """Set a row's timestamp (auto_now_add fields ignore what factories pass)."""
    model._default_manager.filter(pk=pk).update(**{field: NOW - age})


def active_user() -> User:
    return UserFactory.create(last_login=NOW - DAY)


def test_questions_go_one_second_past_their_retention_and_stay_on_the_boundary_day() -> None:
    owner = active_user()
    expired, boundary, young = (AnsweredQuestionFactory.create(user=owner) for _ in range(3))
    aged(Question, expired.pk, "created_at", 365 * DAY + SECOND)
    aged(Question, boundary.pk, "created_at", 365 * DAY)
    aged(Question, young.pk, "created_at", 364 * DAY)

    counts = expired_purge(now=NOW)

    assert counts["questions"] == 1
    assert set(Question.objects.values_list("pk", flat=True)) == {boundary.pk, young.pk}


def test_conversions_go_with_their_chunks_versions_and_repair_requests() -> None:
    owner = active_user()
    old = ConversionFactory.create(owner=owner, status=Conversion.Status.DONE, latex="x")
    young = ConversionFactory.create(owner=owner, status=Conversion.Status.DONE, latex="y")
    for conversion in (old, young):
        Version.objects.create(
            conversion=conversion, number=1, origin=Version.Origin.ORIGINAL, latex="x"
        )
        RepairRequest.objects.create(conversion=conversion, owner=owner, source_number=1)
    aged(Conversion, old.pk, "created_at", 200 * DAY + SECOND)
    aged(Conversion, young.pk, "created_at", 200 * DAY)

    counts = expired_purge(now=NOW)

    assert counts["conversions"] == 1
    assert list(Conversion.objects.values_list("pk", flat=True)) == [young.pk]
    for model in (PdfChunk, Version, RepairRequest):
        assert set(model._default_manager.values_list("conversion_id", flat=True)) == {young.pk}


def test_an_inactive_student_account_goes_with_everything_it_holds_but_staff_stay() -> None:
    gone = StudentFactory.create(must_change_password=False)
    User.objects.filter(pk=gone.user.pk).update(last_login=NOW - 730 * DAY - SECOND)
    never = UserFactory.create()
    User.objects.filter(pk=never.pk).update(last_login=None, date_joined=NOW - 731 * DAY)
    boundary = UserFactory.create()
    User.objects.filter(pk=boundary.pk).update(last_login=NOW - 730 * DAY)
    staff = UserFactory.create(is_staff=True)
    User.objects.filter(pk=staff.pk).update(last_login=NOW - 3000 * DAY)
    AnsweredQuestionFactory.create(user=gone.user)
    ConversionFactory.create(owner=gone.user)

    counts = expired_purge(now=NOW)

    assert counts["inactive accounts"] == 2
    assert set(User.objects.values_list("pk", flat=True)) == {boundary.pk, staff.pk}
    assert not Student.objects.exists()
    assert not Question.objects.exists() and not Conversion.objects.exists()
    assert not PdfChunk.objects.exists()


def test_birth_dates_go_once_a_password_is_chosen_or_the_first_login_window_ends() -> None:
    chose = StudentFactory.create(must_change_password=False)
    late = StudentFactory.create()
    User.objects.filter(pk=late.user.pk).update(date_joined=NOW - 120 * DAY - SECOND)
    waiting = StudentFactory.create()
    User.objects.filter(pk=waiting.user.pk).update(date_joined=NOW - 120 * DAY)

    counts = expired_purge(now=NOW)

    assert counts["birth dates"] == 2
    births = dict(Student.objects.values_list("pk", "birth_date"))
    assert births == {chose.pk: None, late.pk: None, waiting.pk: waiting.birth_date}
    assert Student.objects.count() == 3


def test_sign_in_records_and_expired_sessions_go_after_their_retention() -> None:
    fields = {"user_agent": "x", "ip_address": "192.0.2.1", "http_accept": "", "path_info": "/"}
    records = []
    for age in (180 * DAY + SECOND, 180 * DAY):
        failure = AccessFailureLog.objects.create(**fields, locked_out=False)
        aged(AccessFailureLog, failure.pk, "attempt_time", age)
        attempt = AccessAttempt.objects.create(
            **fields, username=f"u{age.days}{age.seconds}", get_data="", post_data="",
            failures_since_start=1,
        )  # fmt: skip
        aged(AccessAttempt, attempt.pk, "attempt_time", age)
        log = AccessLog.objects.create(**fields)
        aged(AccessLog, log.pk, "attempt_time", age)
        signup = RegistrationAttempt.objects.create(ip_address="192.0.2.1")
        aged(RegistrationAttempt, signup.pk, "created_at", age)
        records.append((failure, attempt, log, signup))
    Session.objects.create(session_key="a" * 32, session_data="", expire_date=NOW - SECOND)
    Session.objects.create(session_key="b" * 32, session_data="", expire_date=NOW + SECOND)

    counts = expired_purge(now=NOW)

    assert counts["failed logins"] == counts["lockout attempts"] == 1
    assert counts["access logs"] == counts["sign-up attempts"] == counts["sessions"] == 1
    kept = records[1]
    for row in kept:
        assert list(type(row)._default_manager.values_list("pk", flat=True)) == [row.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]


def test_nothing_younger_than_its_retention_is_touched() -> None:
    student = StudentFactory.create()
    User.objects.filter(pk=student.user.pk).update(last_login=NOW - DAY, date_joined=NOW - DAY)
    AnsweredQuestionFactory.create(user=student.user)
    ConversionFactory.create(owner=student.user)

    assert expired_purge(now=NOW) == dict.fromkeys(expired_counts(now=NOW), 0)
    assert Student.objects.get().birth_date is not None
    assert Question.objects.count() == Conversion.objects.count() == 1


def test_the_purge_deletes_in_batches(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platform_site.privacy.retention.BATCH_SIZE", 2)
    owner = active_user()
    questions = AnsweredQuestionFactory.create_batch(5, user=owner)
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(created_at=NOW - 400 * DAY)

    with CaptureQueriesContext(connection) as queries:
        counts = expired_purge(now=NOW)

    assert counts["questions"] == 5
    deletes = [
        q["sql"] for q in queries.captured_queries if 'DELETE FROM "codegen_question"' in q["sql"]
    ]
    assert len(deletes) == 3


def test_the_command_dry_run_counts_per_kind_and_deletes_nothing() -> None:
    owner = active_user()
    question = AnsweredQuestionFactory.create(user=owner)
    Question.objects.filter(pk=question.pk).update(created_at=timezone.now() - 400 * DAY)
    out = StringIO()

    call_command("purge_expired", "--dry-run", stdout=out)

    assert "questions: 1 would be purged" in out.getvalue()
    assert "conversions: 0 would be purged" in out.getvalue()
    assert Question.objects.count() == 1

    out = StringIO()
    call_command("purge_expired", stdout=out)

    assert "questions: 1 purged" in out.getvalue()
    assert not Question.objects.exists()
