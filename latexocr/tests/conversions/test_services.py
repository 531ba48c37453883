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
from pypdf import PdfReader

from accounts.models import User
from latexocr.conversions.selectors import conversion_can_be_retried
from latexocr.conversions.services import (
    DuplicateConversion,
    QuotaExceeded,
    RunLimitReached,
    conversion_create,
    conversion_reap_stuck,
    conversion_retry,
    conversion_run,
)
from latexocr.engines import backends
from latexocr.models import Conversion, InvalidTransition, Version
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import (
    BROKEN_DOCUMENT,
    REPAIRED_DOCUMENT,
    skip_without_tex,
    tex_document,
)
from latexocr.tex.errors import errors_shown
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


def test_a_gemini_failure_marks_the_conversion_failed_with_a_french_message(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(status=400))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert conversion.error_code == "llm.rejected"
    assert "a refusé la demande" in conversion.error_message
    assert "400" in conversion.error_detail
    # Gemini refused before doing any work: the conversion is not counted, nor offered again.
    assert not conversion.charged
    assert not conversion_can_be_retried(conversion=conversion)
    assert conversion.attempts == 1
    assert conversion.finished_at is not None


def test_an_unexpected_crash_fails_with_a_plain_message(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise RuntimeError("KeyError: 'candidates' at line 42")

    monkeypatch.setattr("latexocr.engines.backends.convert", explode)
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "Erreur interne" in conversion.error_message
    assert "KeyError" not in conversion.error_message
    assert "KeyError" in conversion.error_detail


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
    real = backends.convert

    def delete_then_convert(**kwargs: Any) -> Any:
        Conversion.objects.filter(pk=conversion.pk).delete()
        return real(**kwargs)

    monkeypatch.setattr("latexocr.engines.backends.convert", delete_then_convert)

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


def test_progress_is_a_sign_of_life(gemini_backend: FakeGemini) -> None:
    conversion = ConversionFactory.create(
        page_count=2, heartbeat_at=None, pdf=pdf_with_text(["page un", "page deux"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.heartbeat_at is not None
    assert conversion.started_at is not None
    assert conversion.heartbeat_at >= conversion.started_at


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


def versions(conversion: Conversion) -> list[Version]:
    """The conversion's versions, oldest first: what its compile check recorded."""
    return list(conversion.versions.order_by("number"))


@pytest.fixture
def pdflatex(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_conversion_that_compiles_stores_its_pdf_and_page_count() -> None:
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.LOCAL, pdf=pdf_with_text(["Exercice 1", "Exercice 2"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)  # no repair round: version 1 compiled
    assert original.compile_status == Version.CompileStatus.COMPILES
    assert original.compiled_pdf is not None
    pdf = bytes(original.compiled_pdf)
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    assert original.compiled_page_count == 2
    assert original.compile_errors == []
    assert original.compile_duration_s is not None and original.compile_duration_s > 0


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_broken_gemini_document_is_repaired_once_and_both_versions_are_kept(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(
        Reply(text=BROKEN_DOCUMENT, input_tokens=100, output_tokens=50),
        Reply(text=REPAIRED_DOCUMENT, input_tokens=30, output_tokens=20),
    )
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.latex == BROKEN_DOCUMENT
    original, repaired = versions(conversion)
    assert repaired.latex == REPAIRED_DOCUMENT
    assert repaired.compile_status == Version.CompileStatus.COMPILES
    assert original.compile_status == Version.CompileStatus.FAILS
    assert original.compile_errors[0]["line"] == 5
    assert "\\mathbb" in errors_shown(original.compile_errors)[0]["message"]
    assert repaired.compile_errors == []
    assert bytes(repaired.compiled_pdf or b"").startswith(b"%PDF")
    assert repaired.compiled_page_count == 1
    assert conversion.gemini_calls == 2
    assert (conversion.input_tokens, conversion.output_tokens) == (130, 70)


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_gemini_failure_during_the_repair_keeps_the_conversion_done_with_its_errors(
    gemini_backend: FakeGemini, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gemini_backend.queue(
        Reply(text=BROKEN_DOCUMENT), *[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS
    )
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.error_code == ""
    assert conversion.latex == BROKEN_DOCUMENT
    (original,) = versions(conversion)  # the round gave no document
    assert original.compile_status == Version.CompileStatus.FAILS
    assert original.compile_errors[0]["line"] == 5
    # Why the round gave nothing is staff's business: the log says it.
    assert "indisponible" in caplog.text
    assert original.compiled_pdf is None
    assert "Undefined control sequence" in original.compile_log_excerpt
    assert conversion.gemini_calls == 1


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_repair_that_does_not_compile_either_keeps_both_versions_and_their_errors(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(text=BROKEN_DOCUMENT), Reply(text=tex_document("Soit $x^2^3$.")))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    original, repaired = versions(conversion)
    assert original.compile_status == repaired.compile_status == Version.CompileStatus.FAILS
    assert conversion.latex == BROKEN_DOCUMENT
    assert "x^2^3" in repaired.latex
    assert original.compile_errors
    assert "Double exposant" in errors_shown(repaired.compile_errors)[0]["message"]
    assert original.compiled_pdf is None and repaired.compiled_pdf is None


def test_without_a_compiler_the_check_is_skipped_and_says_why(
    gemini_backend: FakeGemini,
) -> None:
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "aucun compilateur" in original.compile_skipped_reason
    assert original.compiled_pdf is None
    assert original.compile_duration_s is None
    assert len(gemini_backend.generate_requests()) == 1


def test_a_compiler_missing_from_the_server_skips_the_check(
    gemini_backend: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_COMPILER = "no-such-latex-engine -pdf"
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "no-such-latex-engine" in original.compile_skipped_reason


def test_a_crash_of_the_compile_check_does_not_lose_the_conversion(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("latexocr.conversions.services.latex_check", explode)
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert "\\documentclass" in conversion.latex
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "Erreur interne" in original.compile_skipped_reason
    assert "space" not in original.compile_skipped_reason


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
