from __future__ import annotations

import io
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from latexocr.conversions.runs import conversion_run
from latexocr.conversions.selectors import conversion_can_be_retried
from latexocr.conversions.services import (
    DuplicateConversion,
    QuotaExceeded,
    RunLimitReached,
    conversion_create,
    conversion_reap_stuck,
    conversion_retry,
)
from latexocr.engines import backends
from latexocr.models import Conversion, InvalidTransition
from latexocr.tests.factories import ConversionFactory
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
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


def test_the_same_pdf_again_raises_a_duplicate_naming_the_earlier_conversion(
    user: User,
) -> None:
    pdf = pdf_with_text(["Même document"])
    earlier = conversion_create(owner=user, pdf=pdf, original_filename="a.pdf", page_count=1)

    with pytest.raises(DuplicateConversion) as raised:
        conversion_create(owner=user, pdf=pdf, original_filename="b.pdf", page_count=1)

    assert raised.value.earlier == earlier
    assert Conversion.objects.count() == 1


def test_the_same_pdf_is_converted_again_when_duplicates_are_allowed(user: User) -> None:
    pdf = pdf_with_text(["Même document"])
    earlier = conversion_create(owner=user, pdf=pdf, original_filename="a.pdf", page_count=1)

    again = conversion_create(
        owner=user, pdf=pdf, original_filename="a.pdf", page_count=1, allow_duplicate=True
    )

    assert again.pk != earlier.pk
    assert again.sha256 == earlier.sha256


def test_creating_beyond_the_daily_quota_raises(user: User, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 1
    ConversionFactory.create(owner=user)

    with pytest.raises(QuotaExceeded):
        conversion_create(owner=user, pdf=blank_pdf(1), original_filename="a.pdf", page_count=1)


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
    settings.LATEXOCR_MAX_RUNS = 3
    stuck = ConversionFactory.create(
        status=Conversion.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        attempts=3,
    )

    conversion_reap_stuck(stuck_after_s=1800)

    stuck.refresh_from_db()
    assert stuck.status == Conversion.Status.FAILED
    assert "interrompue 3 fois" in stuck.error_message


def test_the_reaper_leaves_a_long_conversion_that_still_shows_signs_of_life() -> None:
    slow_but_alive = ConversionFactory.create(
        status=Conversion.Status.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        heartbeat_at=timezone.now() - timedelta(minutes=1),
        attempts=1,
    )

    reaped = conversion_reap_stuck(stuck_after_s=1800)

    slow_but_alive.refresh_from_db()
    assert reaped == []
    assert slow_but_alive.status == Conversion.Status.RUNNING


def test_a_late_result_after_a_requeue_is_dropped_without_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversion = ConversionFactory.create(
        pdf=pdf_with_text(["x"]), page_count=1, backend=Conversion.Backend.LOCAL
    )
    real_convert = backends.convert_locally

    def convert_then_get_requeued(
        *, pdf: bytes, on_progress: backends.ProgressCallback
    ) -> backends.ConversionResult:
        result = real_convert(pdf=pdf, on_progress=on_progress)
        # Meanwhile the reaper judged this worker dead and queued the conversion again.
        Conversion.objects.filter(pk=conversion.pk).update(status=Conversion.Status.QUEUED)
        return result

    monkeypatch.setattr(backends, "convert_locally", convert_then_get_requeued)

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.QUEUED
    assert conversion.latex == ""


def test_a_conversion_runs_at_most_latexocr_max_runs_times(settings: Any) -> None:
    settings.LATEXOCR_MAX_RUNS = 2
    conversion = ConversionFactory.create(status=Conversion.Status.FAILED, attempts=2)

    with pytest.raises(RunLimitReached, match="lancée 2 fois"):
        conversion_retry(conversion=conversion)

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert conversion_can_be_retried(conversion=conversion) is False


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


# --- the compile check after a conversion ------------------------------------------------


def test_a_dead_workers_conversion_is_requeued_within_3_minutes_with_the_defaults(
    settings: Any,
) -> None:
    # The reaper runs every minute (k8s/base/reaper-cronjob.yaml); the worker beats every
    # LATEXOCR_HEARTBEAT_S until it dies.
    reaper_every_s = 60
    assert settings.LATEXOCR_STUCK_AFTER_S + reaper_every_s <= 180
    assert settings.LATEXOCR_STUCK_AFTER_S >= 3 * settings.LATEXOCR_HEARTBEAT_S
    died = timezone.now() - timedelta(seconds=settings.LATEXOCR_STUCK_AFTER_S + 1)
    dead = ConversionFactory.create(
        status=Conversion.Status.RUNNING,
        started_at=died - timedelta(minutes=10),
        heartbeat_at=died,
        attempts=1,
    )

    call_command("latexocr_reap", stdout=io.StringIO())

    dead.refresh_from_db()
    assert dead.status == Conversion.Status.QUEUED


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks whole tables between threads; "
    "the PostgreSQL pass runs this test",
)
def test_a_slow_conversion_that_is_alive_is_never_reaped(
    gemini_backend: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_HEARTBEAT_S = 0.1
    # One range that takes far longer than the reaper's threshold, with no progress at all.
    gemini_backend.queue(Reply(delay_s=2.0))
    conversion = ConversionFactory.create(status=Conversion.Status.QUEUED)
    reaped: list[Conversion] = []

    def reap_while_it_runs() -> None:
        try:
            for _ in range(8):
                time.sleep(0.2)
                reaped.extend(conversion_reap_stuck(stuck_after_s=1))
        finally:
            connection.close()

    reaper = threading.Thread(target=reap_while_it_runs)
    reaper.start()
    conversion_run(conversion_id=str(conversion.pk))
    reaper.join()

    conversion.refresh_from_db()
    assert reaped == []
    assert conversion.status == Conversion.Status.DONE
    assert conversion.attempts == 1
