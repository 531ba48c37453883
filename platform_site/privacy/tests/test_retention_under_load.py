"""The daily purge while students use the site: no error anywhere, exactly the expired rows go.

Several threads, each a student on its own database connection, keep asking questions and
uploading conversions (through the services and factories that write them as the site does)
and reading them back through the pages, while `purge_expired` deletes in small batches. The
batches are made smaller than in production so the purge runs many short transactions
interleaved with the students' work.
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from codegen.models import Question
from codegen.services import question_create
from codegen.tests.factories import AnsweredQuestionFactory
from latexocr.models import Conversion, PdfChunk
from latexocr.tests.factories import ConversionFactory
from platform_site.models import AccountExport
from platform_site.privacy import retention
from tests.concurrency import needs_row_locks
from tests.pdfs import blank_pdf

pytestmark = needs_row_locks

STUDENTS = 3
# Each student works at least this many rounds, and goes on while the purge runs; never more
# than MAX_ROUNDS nor longer than DEADLINE_S, so a stuck purge fails the test instead of
# hanging it.
MIN_ROUNDS = 3
MAX_ROUNDS = 200
DEADLINE_S = 60.0
DAY = datetime.timedelta(days=1)


@dataclass
class StudentLoad:
    """What one student's thread made, read and met."""

    user: User
    questions: list[int] = field(default_factory=list)
    conversions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rounds: list[tuple[float, float]] = field(default_factory=list)


def student_rounds(load: StudentLoad, warmed: threading.Barrier, purged: threading.Event) -> None:
    client = Client()
    client.force_login(load.user)
    deadline = time.monotonic() + DEADLINE_S
    try:
        for number in range(MAX_ROUNDS):
            if number == 1:
                warmed.wait(timeout=DEADLINE_S)  # the purge starts once all are at work
            if (purged.is_set() and number >= MIN_ROUNDS) or time.monotonic() > deadline:
                break
            started = time.monotonic()
            question = question_create(user=load.user, message=f"Question {number} ?")
            load.questions.append(question.pk)
            conversion = ConversionFactory.create(owner=load.user, pdf=blank_pdf(1))
            load.conversions.append(str(conversion.pk))
            for url, expected in (
                ("/codegen/history/", b"Question"),
                (f"/codegen/{question.pk}/", f"Question {number} ?".encode()),
                ("/ocr/history/", b"td1.pdf"),
                ("/privacy/my-data/", b"Mes donn"),
            ):
                response = client.get(url)
                if response.status_code != 200 or expected not in response.content:
                    load.errors.append(f"{url}: {response.status_code}")
            source = client.get(f"/ocr/{conversion.pk}/source.pdf")
            pdf = b"".join(source.streaming_content)  # type: ignore[attr-defined]
            if source.status_code != 200 or not pdf.startswith(b"%PDF"):
                load.errors.append(f"source.pdf: {source.status_code}")
            load.rounds.append((started, time.monotonic()))
    except Exception as error:  # every error counts, whatever it is
        load.errors.append(repr(error))
    finally:
        warmed.abort()  # a thread that stopped early never leaves the others waiting
        connection.close()


def aged(model: Any, pks: list[Any], field_name: str, age: datetime.timedelta) -> None:
    model._default_manager.filter(pk__in=pks).update(**{field_name: timezone.now() - age})


def test_the_purge_runs_while_students_use_the_site_without_errors(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CODEGEN_BACKEND = "webhook"
    settings.CODEGEN_WEBHOOK_URL = "http://127.0.0.1:9/never-called"
    settings.CODEGEN_DAILY_QUOTA = MAX_ROUNDS  # the counted path, with its lock, runs too
    settings.RETENTION_QUESTIONS_DAYS = 365
    settings.RETENTION_CONVERSIONS_DAYS = 365
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 730
    monkeypatch.setattr(retention, "BATCH_SIZE", 5)
    monkeypatch.setattr(retention, "CONVERSION_BATCH_SIZE", 2)

    # Old work of students still signed in now and then: the expired part goes, the rest stays.
    veteran = UserFactory.create(last_login=timezone.now())
    expired_questions = [AnsweredQuestionFactory.create(user=veteran).pk for _ in range(60)]
    aged(Question, expired_questions, "created_at", 365 * DAY + datetime.timedelta(hours=1))
    kept_questions = [AnsweredQuestionFactory.create(user=veteran).pk for _ in range(5)]
    aged(Question, kept_questions, "created_at", 364 * DAY)
    expired_conversions = [
        ConversionFactory.create(owner=veteran, pdf=blank_pdf(2)).pk for _ in range(8)
    ]
    aged(Conversion, expired_conversions, "created_at", 366 * DAY)
    kept_conversions = [ConversionFactory.create(owner=veteran).pk for _ in range(2)]
    # A student gone for good: the account goes with everything it holds.
    departed = UserFactory.create(last_login=timezone.now() - 731 * DAY)
    departed_questions = [AnsweredQuestionFactory.create(user=departed).pk for _ in range(3)]
    ConversionFactory.create(owner=departed)
    expired_export = AccountExport.objects.create(
        owner=veteran, expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    loads = [StudentLoad(user=UserFactory.create()) for _ in range(STUDENTS)]
    warmed = threading.Barrier(STUDENTS + 1)
    purged = threading.Event()
    threads = [
        threading.Thread(target=student_rounds, args=(load, warmed, purged)) for load in loads
    ]
    for thread in threads:
        thread.start()
    warmed.wait(timeout=DEADLINE_S)
    out = StringIO()
    purge_started = time.monotonic()
    try:
        call_command("purge_expired", stdout=out)
    finally:
        purge_ended = time.monotonic()
        purged.set()
        for thread in threads:
            thread.join(timeout=DEADLINE_S + 10)

    assert not any(thread.is_alive() for thread in threads)
    assert [load.errors for load in loads] == [[]] * STUDENTS
    for load in loads:
        assert len(load.rounds) >= MIN_ROUNDS
        # At least one round of every student ran while the purge did.
        assert any(start < purge_ended and end > purge_started for start, end in load.rounds)
    report = out.getvalue()
    assert "questions: 60 purged" in report
    assert "conversions: 8 purged" in report
    assert "data exports: 1 purged" in report
    assert "inactive accounts: 1 purged" in report
    fresh_questions = kept_questions + [pk for load in loads for pk in load.questions]
    assert sorted(Question.objects.values_list("pk", flat=True)) == sorted(fresh_questions)
    fresh_conversions = {str(pk) for pk in kept_conversions} | {
        pk for load in loads for pk in load.conversions
    }
    assert {str(pk) for pk in Conversion.objects.values_list("pk", flat=True)} == (
        fresh_conversions
    )
    assert {str(pk) for pk in PdfChunk.objects.values_list("conversion_id", flat=True)} == (
        fresh_conversions
    )
    assert not AccountExport.objects.filter(pk=expired_export.pk).exists()
    assert not Question.objects.filter(pk__in=departed_questions).exists()
    assert set(User.objects.values_list("pk", flat=True)) == {veteran.pk} | {
        load.user.pk for load in loads
    }
