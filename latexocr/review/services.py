"""Writes on a conversion's versions from requests and commands: edit, restore, ask for a
repair, reap what a dead worker left.

Every new version takes the next number under a row lock on its conversion, so two edits at
once get two numbers. Compiling never happens in a request: the version is saved as queued
and a task compiles it (in the compile check's sandbox, with the same limits).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.enqueue import repair_run_enqueue, version_compile_enqueue
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.review.runs import version_add_next
from latexocr.review.selectors import version_recompiles_left
from platform_site.core.failures import failure_kind
from platform_site.core.quotas import limit_reached

logger = logging.getLogger(__name__)


REPAIR_INTERRUPTED = failure_kind(
    "latexocr.repair.interrupted",
    gettext_lazy("la correction a été interrompue ; vous pouvez la demander à nouveau"),
    retry=True,
    charged=False,
)


class RecompileLimitReached(Exception):
    """The user has recompiled LATEXOCR_RECOMPILES_PER_HOUR times in the last hour."""


class LatexTooLarge(Exception):
    """The submitted LaTeX is over LATEXOCR_MAX_LATEX_KB."""


class NothingToRepair(Exception):
    """The current version compiles, is still compiling, or a repair is already running."""


class RepairQuotaExceeded(Exception):
    """The daily conversion quota (which repairs count in) is used up."""


def latex_max_bytes() -> int:
    return settings.LATEXOCR_MAX_LATEX_KB * 1024


def _lock_done(conversion: Conversion) -> Conversion:
    locked = (
        Conversion.objects.select_for_update().only("pk", "status", "owner").get(pk=conversion.pk)
    )
    if locked.status != Conversion.Status.DONE:
        raise Conversion.DoesNotExist
    return locked


def version_edit(*, conversion: Conversion, user: User, latex: str) -> Version:
    """Save the student's LaTeX as the newest version and queue its compilation."""
    if len(latex.encode()) > latex_max_bytes():
        raise LatexTooLarge
    with transaction.atomic():
        locked = _lock_done(conversion)
        if limit_reached(user_id=user.pk, remaining=lambda: version_recompiles_left(user=user)):
            raise RecompileLimitReached
        version = version_add_next(locked, origin=Version.Origin.EDITED, latex=latex)
        version_compile_enqueue(version_id=version.pk)
    return version


def version_restore(*, conversion: Conversion, user: User, number: int) -> Version:
    """Copy version `number` as the newest; its compile result is reused, not recomputed."""
    with transaction.atomic():
        locked = _lock_done(conversion)
        source = locked.versions.get(number=number)
        if limit_reached(user_id=user.pk, remaining=lambda: version_recompiles_left(user=user)):
            raise RecompileLimitReached
        copied_result = not source.is_compiling
        version = version_add_next(
            locked,
            origin=Version.Origin.RESTORED,
            restored_from=source.number,
            latex=source.latex,
            **(
                {
                    field: getattr(source, field)
                    for field in (
                        "compile_status",
                        "compile_skipped_reason",
                        "compile_errors",
                        "compile_log_excerpt",
                        "compile_duration_s",
                        "compiled_pdf",
                        "compiled_page_count",
                        "compiled_at",
                    )
                }
                if copied_result
                else {}
            ),
        )
        if not copied_result:
            version_compile_enqueue(version_id=version.pk)
    return version


def version_reap_stuck(*, stuck_after_s: int) -> int:
    """Versions left compiling by a dead worker end as not checked, so the page stops waiting.

    A live compile ends within LATEXOCR_COMPILE_TIMEOUT_S (its own limit), so a version still
    running `stuck_after_s` after its claim lost its worker. It is not compiled again: a
    document that killed its worker would kill the next one; the student can save it again.
    """
    cutoff = timezone.now() - timedelta(seconds=stuck_after_s)
    return Version.objects.filter(
        compile_status=Version.CompileStatus.RUNNING, compile_started_at__lt=cutoff
    ).update(
        compile_status=Version.CompileStatus.SKIPPED,
        compile_skipped_reason=_(
            "La compilation a été interrompue. Enregistrez à nouveau pour la relancer."
        ),
        compiled_at=timezone.now(),
    )


def repair_request(*, conversion: Conversion, user: User) -> RepairRequest:
    """Queue one Gemini repair round of the current version (counted in the daily quota)."""
    with transaction.atomic():
        locked = _lock_done(conversion)
        current = locked.versions.order_by("-number").first()
        if (
            current is None
            or current.compile_status != Version.CompileStatus.FAILS
            or locked.repair_requests.filter(
                status__in=[RepairRequest.Status.QUEUED, RepairRequest.Status.RUNNING]
            ).exists()
        ):
            raise NothingToRepair
        if limit_reached(user_id=user.pk, remaining=lambda: conversion_quota_remaining(user=user)):
            raise RepairQuotaExceeded
        request = RepairRequest.objects.create(
            conversion=locked, owner=user, source_number=current.number
        )
        repair_run_enqueue(request_id=request.pk)
    return request


def repair_reap_stuck(*, stuck_after_s: int) -> int:
    """Repair requests left running by a dead worker end as failed, so the page stops waiting
    and a new repair may be asked for. A live round (the model's calls and retries, then a
    compile) ends well within `stuck_after_s` of its claim. Not run again: the student asks.
    """
    cutoff = timezone.now() - timedelta(seconds=stuck_after_s)
    stuck = RepairRequest.objects.filter(status=RepairRequest.Status.RUNNING).filter(
        # Claimed before started_at existed: the request's own time stands in.
        Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    )
    return stuck.update(
        status=RepairRequest.Status.FAILED,
        error_code=REPAIR_INTERRUPTED.code,
        error_params={},
        error_detail="worker lost",
        finished_at=timezone.now(),
    )
