from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.conversions.services import conversion_delete, conversion_run
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.review.selectors import version_current, version_recompiles_left
from latexocr.review.services import (
    LatexTooLarge,
    NothingToRepair,
    RecompileLimitReached,
    RepairQuotaExceeded,
    repair_request,
    version_compile,
    version_edit,
    version_restore,
)
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import (
    BROKEN_DOCUMENT,
    REPAIRED_DOCUMENT,
    skip_without_tex,
    tex_document,
)
from latexocr.tex.compiler import CompileResult, skipped_result
from latexocr.tex.errors import errors_shown
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
from tests.pdfs import pdf_with_text

pytestmark = pytest.mark.django_db
GOOD_DOCUMENT = tex_document("Exercice 1 : $x^2$.")


def done_conversion(owner: User, latex: str = GOOD_DOCUMENT) -> Conversion:
    """A finished conversion with its version 1 (not compiled: no engine in unit tests)."""
    conversion = ConversionFactory.create(owner=owner, status=Conversion.Status.DONE, latex=latex)
    Version.objects.create(
        conversion=conversion,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=latex,
        compile_status=Version.CompileStatus.SKIPPED,
    )
    return conversion


@pytest.fixture
def pdflatex(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the tasks enqueued at commit (the immediate backend then runs them at once)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_finished_conversion_gets_its_transcription_as_version_1() -> None:
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.LOCAL, pdf=pdf_with_text(["Exercice 1"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    versions = list(conversion.versions.all())
    assert [(v.number, v.origin) for v in versions] == [(1, Version.Origin.ORIGINAL)]
    conversion.refresh_from_db()
    assert versions[0].latex == conversion.latex
    assert versions[0].compile_status == Version.CompileStatus.SKIPPED


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_the_repair_round_s_answer_is_version_2_with_its_own_pdf(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(text=BROKEN_DOCUMENT), Reply(text=REPAIRED_DOCUMENT))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    first, second = conversion.versions.order_by("number")
    assert (first.origin, first.compile_status) == ("original", "fails")
    assert first.compile_errors[0]["line"] == 5
    assert first.compiled_pdf is None
    assert (second.number, second.origin, second.compile_status) == (2, "repaired", "compiles")
    assert second.latex == REPAIRED_DOCUMENT
    assert bytes(second.compiled_pdf or b"").startswith(b"%PDF")


def test_an_edit_is_the_next_version_and_is_queued_for_compilation(
    user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    conversion = done_conversion(user)

    with django_capture_on_commit_callbacks(execute=True):
        version = version_edit(conversion=conversion, user=user, latex="\\documentclass{article}")

    assert (version.number, version.origin) == (2, Version.Origin.EDITED)
    assert version.compile_status == Version.CompileStatus.QUEUED
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [version.pk]
    current = version_current(conversion=conversion)
    assert current is not None and current.number == 2


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_an_edited_version_is_compiled_in_the_background_with_its_errors_and_lines(
    user: User, run_on_commit: Any
) -> None:
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(conversion=conversion, user=user, latex=BROKEN_DOCUMENT)

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.FAILS
    assert version.compile_errors[0]["line"] == 5
    with run_on_commit():
        fixed = version_edit(conversion=conversion, user=user, latex=REPAIRED_DOCUMENT)
    fixed.refresh_from_db()
    assert fixed.compile_status == Version.CompileStatus.COMPILES
    assert bytes(fixed.compiled_pdf or b"").startswith(b"%PDF")
    assert fixed.compiled_page_count == 1


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ("\\input{/etc/passwd}", "/etc/passwd"),
        ("\\def\\loop{\\loop}\\loop", "Compilation arrêtée"),
    ],
)
def test_an_edit_is_contained_like_the_compile_check(
    user: User, settings: Any, run_on_commit: Any, body: str, message_part: str
) -> None:
    settings.LATEXOCR_COMPILE_TIMEOUT_S = 3
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(conversion=conversion, user=user, latex=tex_document(body))

    version.refresh_from_db()
    messages = " ".join(error["message"] for error in errors_shown(version.compile_errors))
    assert version.compile_status == Version.CompileStatus.FAILS
    assert message_part in messages


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_an_edit_with_write18_runs_no_command(
    user: User, run_on_commit: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(
            conversion=conversion,
            user=user,
            latex=tex_document(f"\\immediate\\write18{{touch {marker}}}\nBonjour"),
        )

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.COMPILES
    assert not marker.exists()


def test_compiling_a_version_that_is_not_queued_does_nothing(user: User) -> None:
    conversion = done_conversion(user)
    version = conversion.versions.get()

    version_compile(version_id=version.pk)

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.SKIPPED


def test_latex_over_the_size_limit_is_refused(user: User, settings: Any) -> None:
    settings.LATEXOCR_MAX_LATEX_KB = 1
    conversion = done_conversion(user)

    with pytest.raises(LatexTooLarge):
        version_edit(conversion=conversion, user=user, latex="é" * 600)
    assert conversion.versions.count() == 1


def test_the_hourly_recompile_rate_counts_edits_and_restores_of_the_last_hour(
    user: User, settings: Any
) -> None:
    settings.LATEXOCR_RECOMPILES_PER_HOUR = 2
    conversion = done_conversion(user)
    version_edit(conversion=conversion, user=user, latex="a")
    version_restore(conversion=conversion, user=user, number=1)

    assert version_recompiles_left(user=user) == 0
    with pytest.raises(RecompileLimitReached):
        version_edit(conversion=conversion, user=user, latex="b")
    Version.objects.filter(number__gt=1).update(created_at=timezone.now() - timedelta(hours=2))
    assert version_recompiles_left(user=user) == 2


def test_zero_means_no_recompile_limit(user: User, settings: Any) -> None:
    settings.LATEXOCR_RECOMPILES_PER_HOUR = 0

    assert version_recompiles_left(user=user) is None


def test_a_restored_version_becomes_the_newest_with_its_compile_result(user: User) -> None:
    conversion = done_conversion(user)
    Version.objects.filter(conversion=conversion).update(
        compile_status=Version.CompileStatus.COMPILES, compiled_pdf=b"%PDF-1", compiled_page_count=1
    )
    version_edit(conversion=conversion, user=user, latex="broken")

    restored = version_restore(conversion=conversion, user=user, number=1)

    restored.refresh_from_db()
    assert (restored.number, restored.origin, restored.restored_from) == (3, "restored", 1)
    assert restored.latex == GOOD_DOCUMENT
    assert restored.compile_status == Version.CompileStatus.COMPILES
    assert bytes(restored.compiled_pdf or b"") == b"%PDF-1"


def test_deleting_the_conversion_deletes_its_versions_and_repair_requests(user: User) -> None:
    conversion = done_conversion(user)
    version_edit(conversion=conversion, user=user, latex="x")
    RepairRequest.objects.create(conversion=conversion, owner=user, source_number=1)

    conversion_delete(conversion=conversion)

    assert not Version.objects.exists()
    assert not RepairRequest.objects.exists()


def test_a_repair_is_only_asked_for_a_current_version_that_fails(user: User) -> None:
    conversion = done_conversion(user)

    with pytest.raises(NothingToRepair):
        repair_request(conversion=conversion, user=user)


def failing_conversion(user: User) -> Conversion:
    conversion = done_conversion(user, latex=BROKEN_DOCUMENT)
    Version.objects.filter(conversion=conversion).update(
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=[{"line": 5, "message": "Commande inconnue : \\mathbb"}],
    )
    return conversion


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_repair_on_demand_gives_a_new_compiled_version(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any
) -> None:
    conversion = failing_conversion(user)
    gemini_backend.queue(Reply(text=REPAIRED_DOCUMENT))

    with run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    assert (request.status, request.result_number) == (RepairRequest.Status.DONE, 2)
    repaired = conversion.versions.get(number=2)
    assert (repaired.origin, repaired.latex) == ("repaired", REPAIRED_DOCUMENT)
    assert repaired.compile_status == Version.CompileStatus.COMPILES
    conversion.refresh_from_db()
    assert conversion.gemini_calls == 1
    assert "\\mathbb" in str(gemini_backend.generate_requests()[0].body)


def test_a_repair_on_demand_counts_in_the_daily_conversion_quota(
    user: User, settings: Any, run_on_commit: Any
) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 2
    conversion = failing_conversion(user)
    assert conversion_quota_remaining(user=user) == 1

    with run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    assert conversion_quota_remaining(user=user) == 0
    # No model configured here: the round gets no answer and fails (still counted).
    request.refresh_from_db()
    assert request.status == RepairRequest.Status.FAILED
    assert request.error_code
    with pytest.raises(RepairQuotaExceeded):
        repair_request(conversion=conversion, user=user)


def test_a_repair_is_refused_when_the_daily_quota_is_used_up(user: User, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 1
    conversion = done_conversion(user)
    Version.objects.filter(conversion=conversion).update(compile_status="fails")

    with pytest.raises(RepairQuotaExceeded):
        repair_request(conversion=conversion, user=user)
    assert not RepairRequest.objects.exists()


def test_the_reaper_ends_a_version_whose_worker_died_mid_compile_and_spares_a_live_one(
    user: User, settings: Any
) -> None:
    settings.LATEXOCR_COMPILE_TIMEOUT_S = 60
    settings.LATEXOCR_STUCK_AFTER_S = 90
    conversion = done_conversion(user)
    orphaned, live = (
        Version.objects.create(
            conversion=conversion,
            number=number,
            origin=Version.Origin.EDITED,
            latex=GOOD_DOCUMENT,
            compile_status=Version.CompileStatus.RUNNING,
            compile_started_at=timezone.now() - timedelta(seconds=age_s),
        )
        for number, age_s in ((2, 200), (3, 30))
    )

    call_command("latexocr_reap", stdout=io.StringIO())

    orphaned.refresh_from_db()
    live.refresh_from_db()
    assert orphaned.compile_status == Version.CompileStatus.SKIPPED
    assert "interrompue" in orphaned.compile_skipped_reason
    assert not orphaned.is_compiling
    assert live.compile_status == Version.CompileStatus.RUNNING


def test_a_claimed_compile_records_when_it_started(user: User) -> None:
    version = Version.objects.create(
        conversion=done_conversion(user),
        number=2,
        origin=Version.Origin.EDITED,
        latex=GOOD_DOCUMENT,
        compile_status=Version.CompileStatus.QUEUED,
    )
    before = timezone.now()

    version_compile(version_id=version.pk)

    version.refresh_from_db()
    assert version.compile_started_at is not None
    assert version.compile_started_at >= before


def test_a_repair_on_demand_starts_from_the_stored_errors_without_compiling_again(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversion = failing_conversion(user)
    compiled: list[str] = []

    def compile_recorded(source: str) -> CompileResult:
        compiled.append(source)
        return skipped_result("no engine in this test")

    monkeypatch.setattr("latexocr.tex.checking.compile_with_limits", compile_recorded)
    gemini_backend.queue(Reply(text=REPAIRED_DOCUMENT))

    with run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    # Only the model's answer was compiled; the stored errors went in the prompt.
    assert compiled == [REPAIRED_DOCUMENT]
    assert "\\mathbb" in str(gemini_backend.generate_requests()[0].body)
    assert (request.status, request.result_number) == (RepairRequest.Status.DONE, 2)


def test_a_failed_repair_is_stored_as_a_code_and_worded_in_the_readers_language(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any, settings: Any
) -> None:
    conversion = failing_conversion(user)
    gemini_backend.queue(*[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS)

    with translation.override("fr"), run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    assert request.status == RepairRequest.Status.FAILED
    assert request.error_code == "latexocr.repair.unavailable"
    assert request.error_detail  # the upstream error, for staff
    with translation.override("fr"):
        assert request.error_message == "le service d’IA est indisponible pour le moment"
    with translation.override("en"):
        assert "indisponible" not in request.error_message


def test_the_reaper_ends_a_repair_whose_worker_died_and_spares_a_live_one(
    user: User, settings: Any
) -> None:
    conversion = failing_conversion(user)
    now = timezone.now()
    orphaned, live = (
        RepairRequest.objects.create(
            conversion=conversion,
            owner=user,
            source_number=1,
            status=RepairRequest.Status.RUNNING,
            started_at=now - timedelta(hours=age_h),
        )
        for age_h in (2, 0)
    )

    call_command("latexocr_reap", stdout=io.StringIO())

    orphaned.refresh_from_db()
    live.refresh_from_db()
    assert orphaned.status == RepairRequest.Status.FAILED
    assert orphaned.error_code == "latexocr.repair.interrupted"
    assert orphaned.finished_at is not None
    assert live.status == RepairRequest.Status.RUNNING
    # The page stops waiting: a new repair may be asked for once the live one ends.
    live.status = RepairRequest.Status.DONE
    live.save(update_fields=["status"])
    assert repair_request(conversion=conversion, user=user).status == RepairRequest.Status.QUEUED
