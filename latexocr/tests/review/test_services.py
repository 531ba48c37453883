from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.conversions.services import conversion_delete
from latexocr.models import RepairRequest, Version
from latexocr.review.selectors import version_current, version_recompiles_left
from latexocr.review.services import (
    LatexTooLarge,
    NothingToRepair,
    RecompileLimitReached,
    RepairQuotaExceeded,
    repair_request,
    version_edit,
    version_restore,
)
from latexocr.tests.review.builders import GOOD_DOCUMENT, done_conversion, failing_conversion

pytestmark = pytest.mark.django_db


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
