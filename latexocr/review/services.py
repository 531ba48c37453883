"""Writes on a conversion's versions: record the check, edit, restore, compile, repair on demand.

Every new version takes the next number under a row lock on its conversion, so two edits at
once get two numbers. Compiling never happens in a request: the version is saved as queued
and a task compiles it (in the compile check's sandbox, with the same limits).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.review.selectors import version_recompiles_left
from latexocr.tex.checking import LatexCheck, compile_with_limits, latex_check, repair_backend
from latexocr.tex.compiler import CompileResult, skipped_result
from latexocr.tex.errors import CompileError
from platform_site.core.failures import Failure, failure_kind
from platform_site.core.quotas import limit_reached

logger = logging.getLogger(__name__)


REPAIR_INTERNAL_ERROR = failure_kind(
    "latexocr.repair.internal_error",
    gettext_lazy("erreur interne pendant la correction"),
    retry=True,
    charged=False,
)
REPAIR_NOT_CHECKED = failure_kind(
    "latexocr.repair.not_checked",
    gettext_lazy("la compilation n’a pas pu être vérifiée sur ce site"),
    retry=False,
    charged=False,
)
REPAIR_ALREADY_COMPILES = failure_kind(
    "latexocr.repair.already_compiles",
    gettext_lazy("cette version se compile déjà"),
    retry=False,
    charged=False,
)
REPAIR_GAVE_NOTHING = failure_kind(
    "latexocr.repair.gave_nothing",
    gettext_lazy("la correction n’a rien donné"),
    retry=True,
    charged=True,
)
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


def versions_from_check(*, conversion: Conversion, check: LatexCheck | None) -> None:
    """Versions 1 (the transcription) and 2 (the repair round's answer), from the check."""
    with transaction.atomic():
        locked = Conversion.objects.select_for_update().only("pk").get(pk=conversion.pk)
        if locked.versions.exists():
            # A conversion completes once; a late duplicate must not add versions.
            return
        original = (
            _compile_fields(
                skipped_result(_("Erreur interne pendant la vérification de compilation."))
            )
            if check is None
            else _compile_fields(check.original)
        )
        Version.objects.create(
            conversion=conversion,
            number=1,
            origin=Version.Origin.ORIGINAL,
            latex=conversion.latex,
            **original,
        )
        if check is not None and check.repaired is not None:
            Version.objects.create(
                conversion=conversion,
                number=2,
                origin=Version.Origin.REPAIRED,
                latex=check.repaired_latex,
                **_compile_fields(check.repaired),
            )


def _compile_fields(result: CompileResult) -> dict[str, object]:
    """A compile result as the Version fields that record it."""
    fields: dict[str, object] = {"compiled_at": timezone.now()}
    if result.skipped_reason is not None:
        fields["compile_status"] = Version.CompileStatus.SKIPPED
        fields["compile_skipped_reason"] = result.skipped_reason[:255]
        return fields
    fields["compile_duration_s"] = result.duration_s
    fields["compile_errors"] = [asdict(error) for error in result.errors]
    fields["compile_log_excerpt"] = result.log_excerpt
    if result.compiled:
        fields["compile_status"] = Version.CompileStatus.COMPILES
        fields["compiled_pdf"] = result.pdf
        fields["compiled_page_count"] = result.page_count
    else:
        fields["compile_status"] = Version.CompileStatus.FAILS
    return fields


def _next_version(conversion: Conversion, **fields: object) -> Version:
    """A new version with the next number; call inside a transaction holding the row lock."""
    newest = conversion.versions.aggregate(newest=Max("number"))["newest"] or 0
    return Version.objects.create(conversion=conversion, number=newest + 1, **fields)


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
        version = _next_version(locked, origin=Version.Origin.EDITED, latex=latex)
        _enqueue_compile_on_commit(version)
    return version


def version_restore(*, conversion: Conversion, user: User, number: int) -> Version:
    """Copy version `number` as the newest; its compile result is reused, not recomputed."""
    with transaction.atomic():
        locked = _lock_done(conversion)
        source = locked.versions.get(number=number)
        if limit_reached(user_id=user.pk, remaining=lambda: version_recompiles_left(user=user)):
            raise RecompileLimitReached
        copied_result = not source.is_compiling
        version = _next_version(
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
            _enqueue_compile_on_commit(version)
    return version


def _enqueue_compile_on_commit(version: Version) -> None:
    # Imported here: tasks imports this module for the work itself.
    from latexocr.tasks import version_compile_task

    version_id = version.pk
    transaction.on_commit(lambda: version_compile_task.enqueue(version_id))


def version_compile(*, version_id: int) -> None:
    """Claim a queued version and compile it. A no-op if it is not queued any more."""
    claimed = Version.objects.filter(pk=version_id, compile_status=Version.CompileStatus.QUEUED)
    if not claimed.update(
        compile_status=Version.CompileStatus.RUNNING, compile_started_at=timezone.now()
    ):
        logger.info("version %s not queued any more: nothing to do", version_id)
        return
    version = Version.objects.defer("compiled_pdf").get(pk=version_id)
    try:
        result = compile_with_limits(version.latex)
    except Exception:
        logger.exception("compilation of version %s crashed", version_id)
        result = skipped_result(_("Erreur interne pendant la compilation."))
    # update(), not save(): the version may have been deleted with its conversion meanwhile.
    Version.objects.filter(pk=version_id).update(**_compile_fields(result))


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
        request_id = request.pk

        from latexocr.tasks import repair_run_task

        transaction.on_commit(lambda: repair_run_task.enqueue(request_id))
    return request


def repair_run(*, request_id: int) -> None:
    """One repair round (Gemini once, then compile its answer): a new version.

    The round starts from the source version's stored failing result (its errors go in the
    prompt) rather than compiling the same document again.
    """
    claimed = RepairRequest.objects.filter(pk=request_id, status=RepairRequest.Status.QUEUED)
    if not claimed.update(status=RepairRequest.Status.RUNNING, started_at=timezone.now()):
        return
    request = RepairRequest.objects.select_related("conversion").get(pk=request_id)
    conversion = request.conversion
    source = Version.objects.defer("compiled_pdf").get(
        conversion=conversion, number=request.source_number
    )
    failure: Failure | None = None
    result_number = None
    try:
        check = latex_check(
            latex=source.latex,
            repair=True,
            backend=repair_backend(conversion_backend=conversion.backend),
            failed=_stored_failure(source),
        )
    except Exception as error:
        logger.exception("repair request %s crashed", request_id)
        check = None
        failure = REPAIR_INTERNAL_ERROR.failure(detail=repr(error))
    if check is not None:
        if check.original.skipped_reason is not None:
            failure = REPAIR_NOT_CHECKED.failure(detail=check.original.skipped_reason)
        elif check.original.compiled:
            failure = REPAIR_ALREADY_COMPILES.failure()
        elif check.repaired is None:
            failure = check.repair_error or REPAIR_GAVE_NOTHING.failure()
        else:
            with transaction.atomic():
                locked = Conversion.objects.select_for_update().only("pk").get(pk=conversion.pk)
                created = _next_version(
                    locked,
                    origin=Version.Origin.REPAIRED,
                    latex=check.repaired_latex,
                    **_compile_fields(check.repaired),
                )
                result_number = created.number
        if check.gemini_calls:
            Conversion.objects.filter(pk=conversion.pk).update(
                gemini_calls=F("gemini_calls") + check.gemini_calls
            )
    RepairRequest.objects.filter(pk=request_id).update(
        status=RepairRequest.Status.FAILED if result_number is None else RepairRequest.Status.DONE,
        error_code=failure.code if failure else "",
        error_params=dict(failure.params) if failure else {},
        error_detail=failure.detail if failure else "",
        result_number=result_number,
        finished_at=timezone.now(),
    )


def _stored_failure(version: Version) -> CompileResult | None:
    """The version's stored result as the compiler gave it, when it failed (else None)."""
    if version.compile_status != Version.CompileStatus.FAILS:
        return None
    errors = [
        CompileError(
            line=error.get("line"),
            template=error.get("template", error.get("message", "")),
            params=error.get("params") or {},
        )
        for error in version.compile_errors
    ]
    return CompileResult(
        compiled=False,
        pdf=None,
        page_count=None,
        errors=errors,
        log_excerpt=version.compile_log_excerpt,
        duration_s=version.compile_duration_s or 0.0,
        skipped_reason=None,
    )


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
