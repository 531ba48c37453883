from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from latexocr import backends
from latexocr.models import Conversion, InvalidTransition
from latexocr.services import (
    QuotaExceeded,
    conversion_create,
    conversion_reap_stuck,
    conversion_retry,
    conversion_run,
)
from latexocr.tests.factories import ConversionFactory
from tests.fakes.gemini import FakeGemini, Reply
from tests.pdfs import blank_pdf, pdf_with_text

pytestmark = pytest.mark.django_db


def test_a_created_conversion_is_queued_and_its_task_enqueued_on_commit(
    user: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        conversion = conversion_create(
            owner=user, pdf=pdf_with_text(["x"]), original_filename="a.pdf", page_count=1
        )

    assert conversion.status == Conversion.Status.QUEUED
    assert len(callbacks) == 1


def test_the_task_goes_to_the_database_queue_in_production(
    user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        conversion = conversion_create(
            owner=user, pdf=pdf_with_text(["x"]), original_filename="a.pdf", page_count=1
        )

    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [str(conversion.pk)]
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.QUEUED


def test_creating_beyond_the_daily_quota_raises(user: User, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 1
    ConversionFactory.create(owner=user)

    with pytest.raises(QuotaExceeded):
        conversion_create(owner=user, pdf=blank_pdf(1), original_filename="a.pdf", page_count=1)


def test_a_gemini_failure_marks_the_conversion_failed_with_a_french_message(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(status=400))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "Gemini a refusé la demande" in conversion.error
    assert "Traceback" not in conversion.error
    assert conversion.attempts == 1
    assert conversion.finished_at is not None


def test_an_unexpected_crash_fails_with_a_plain_message(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise RuntimeError("KeyError: 'candidates' at line 42")

    monkeypatch.setattr("latexocr.backends.convert_with_gemini", explode)
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "Erreur interne" in conversion.error
    assert "KeyError" not in conversion.error


def test_running_a_conversion_that_is_not_queued_does_nothing(
    gemini_backend: FakeGemini,
) -> None:
    conversion = ConversionFactory.create(status=Conversion.Status.DONE, latex="kept")

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.latex == "kept"
    assert gemini_backend.generate_requests() == []


def test_a_conversion_deleted_while_it_runs_is_left_deleted(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversion = ConversionFactory.create()
    real = backends.convert_with_gemini

    def delete_then_convert(**kwargs: Any) -> Any:
        Conversion.objects.filter(pk=conversion.pk).delete()
        return real(**kwargs)

    monkeypatch.setattr("latexocr.backends.convert_with_gemini", delete_then_convert)

    conversion_run(conversion_id=str(conversion.pk))

    assert not Conversion.objects.filter(pk=conversion.pk).exists()


def test_a_done_conversion_cannot_be_retried() -> None:
    conversion = ConversionFactory.create(status=Conversion.Status.DONE)

    with pytest.raises(InvalidTransition):
        conversion_retry(conversion=conversion)


def test_the_reaper_requeues_a_conversion_stuck_running_and_it_then_completes(
    gemini_backend: FakeGemini, django_capture_on_commit_callbacks: Any
) -> None:
    stuck = ConversionFactory.create(
        status=Conversion.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        attempts=1,
    )
    recent = ConversionFactory.create(
        status=Conversion.Status.RUNNING, started_at=timezone.now(), attempts=1
    )

    with django_capture_on_commit_callbacks(execute=True):
        reaped = conversion_reap_stuck(stuck_after_s=1800)

    assert [c.pk for c in reaped] == [stuck.pk]
    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert stuck.status == Conversion.Status.DONE
    assert stuck.attempts == 2
    assert recent.status == Conversion.Status.RUNNING


def test_the_reaper_fails_a_conversion_that_keeps_killing_its_worker(settings: Any) -> None:
    settings.LATEXOCR_MAX_ATTEMPTS = 3
    stuck = ConversionFactory.create(
        status=Conversion.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        attempts=3,
    )

    conversion_reap_stuck(stuck_after_s=1800)

    stuck.refresh_from_db()
    assert stuck.status == Conversion.Status.FAILED
    assert "interrompue 3 fois" in stuck.error


def test_the_reap_command_requeues_stuck_conversions_in_few_queries(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.LATEXOCR_STUCK_AFTER_S = 60
    for _ in range(3):
        ConversionFactory.create(
            status=Conversion.Status.RUNNING,
            started_at=timezone.now() - timedelta(minutes=5),
            attempts=1,
        )

    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        call_command("latexocr_reap", stdout=io.StringIO())

    assert Conversion.objects.filter(status=Conversion.Status.QUEUED).count() == 3
    assert len(callbacks) == 3
    assert len(queries) <= 3 + 3 * 2


def test_the_reap_command_dry_run_changes_nothing() -> None:
    stuck = ConversionFactory.create(
        status=Conversion.Status.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    out = io.StringIO()

    call_command("latexocr_reap", "--dry-run", stdout=out)

    stuck.refresh_from_db()
    assert stuck.status == Conversion.Status.RUNNING
    assert str(stuck.pk) in out.getvalue()
