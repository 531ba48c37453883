"""Writes the worker makes on versions: record the compile check, compile a version, run a
repair round. Called by the tasks (latexocr.tasks) and by the conversion's run; enqueues
nothing, so the task module can import it without a circle.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from latexocr.models import Conversion, RepairRequest, Version
from latexocr.tex.checking import LatexCheck, compile_with_limits, latex_check
from latexocr.tex.compiler import CompileResult, skipped_result
from latexocr.tex.errors import CompileError
from platform_site.core.failures import Failure, failure_kind
from platform_site.llm.registry import repair_backend_name

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


def version_add_next(conversion: Conversion, **fields: object) -> Version:
    """A new version with the next number; call inside a transaction holding the row lock."""
    newest = conversion.versions.aggregate(newest=Max("number"))["newest"] or 0
    return Version.objects.create(conversion=conversion, number=newest + 1, **fields)


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
            backend=repair_backend_name(conversion_backend=conversion.backend),
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
                created = version_add_next(
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
