"""The result page of a conversion and the status it polls while the conversion runs.

Once the conversion is done, its current version (the newest) answers for the compile: the
badge, the errors, the PDF, and the status JSON all read it.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.http import AuthenticatedHttpRequest
from latexocr.conversions.selectors import (
    conversion_can_be_retried,
    conversion_get_owned,
    conversion_quota_remaining,
)
from latexocr.models import Conversion, Version
from latexocr.review.selectors import (
    repair_request_latest,
    version_current,
    version_list,
    version_recompiles_left,
)
from latexocr.tex.checking import repair_configured
from latexocr.tex.errors import errors_shown
from latexocr.views.common import OVERLEAF_DOCS_URL, download_filename


def editor_context(
    conversion: Conversion, *, user: Any, submitted_latex: str | None = None
) -> dict[str, object]:
    """What the result page shows of the versions: current one, list, editor, limits."""
    if conversion.status != Conversion.Status.DONE:
        return {}
    current = version_current(conversion=conversion)
    latest_repair = repair_request_latest(conversion=conversion)
    repair_pending = latest_repair is not None and latest_repair.is_pending
    repair_available = repair_configured(conversion_backend=conversion.backend)
    return {
        "current": current,
        "versions": version_list(conversion=conversion),
        "editor_latex": current.latex if submitted_latex is None and current else submitted_latex,
        "recompiles_left": version_recompiles_left(user=user),
        "recompiles_per_hour": settings.LATEXOCR_RECOMPILES_PER_HOUR,
        "max_latex_kb": settings.LATEXOCR_MAX_LATEX_KB,
        "repair_available": repair_available,
        "latest_repair": latest_repair,
        "repair_pending": repair_pending,
        "can_repair": (
            repair_available
            and current is not None
            and current.compile_status == Version.CompileStatus.FAILS
            and not repair_pending
            and conversion_quota_remaining(user=user) != 0
        ),
        # Without JavaScript, the page refreshes itself while the worker has something to do.
        "waiting_for_worker": repair_pending or (current is not None and current.is_compiling),
        "overleaf_url": OVERLEAF_DOCS_URL,
        "tex_filename": download_filename(conversion, ".tex"),
    }


def render_detail(
    request: AuthenticatedHttpRequest,
    conversion: Conversion,
    *,
    status: int,
    edit_error: str,
    submitted_latex: str | None = None,
) -> HttpResponse:
    """The result page, also as the answer of a review action the page must explain."""
    context: dict[str, object] = {
        "conversion": conversion,
        "can_be_retried": conversion_can_be_retried(conversion=conversion),
        "edit_error": edit_error,
    }
    context.update(editor_context(conversion, user=request.user, submitted_latex=submitted_latex))
    return render(request, "latexocr/detail.html", context, status=status)


def done_conversion_get_owned(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> Conversion:
    """The user's finished conversion, or Http404 (the review acts on finished ones only)."""
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    if conversion.status != Conversion.Status.DONE:
        raise Http404
    return conversion


@login_required
@require_GET
def detail(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """The result page: progress, or the review (side by side, editor, versions)."""
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    return render_detail(request, conversion, status=200, edit_error="")


@login_required
@require_GET
@never_cache
def status(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> JsonResponse:
    """Where the conversion stands; once done, what its current version's compile gave."""
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    current = (
        version_current(conversion=conversion, with_latex=False)
        if conversion.status == Conversion.Status.DONE
        else None
    )
    return JsonResponse(
        {
            "status": conversion.status,
            "status_label": conversion.get_status_display(),
            "progress": conversion.progress_percent,
            "pages_done": conversion.pages_done,
            "page_count": conversion.page_count,
            "error": conversion.error_message,
            "error_code": conversion.error_code,
            "can_be_retried": conversion_can_be_retried(conversion=conversion),
            "version": current.number if current else None,
            "compile_status": current.compile_status if current else "",
            "compile_status_label": current.get_compile_status_display() if current else "",
            # Operator wording (why the compile was skipped): staff only.
            "compile_skipped_reason": (
                current.compile_skipped_reason if current and request.user.is_staff else ""
            ),
            "compile_errors": errors_shown(current.compile_errors) if current else [],
            "compiled_page_count": current.compiled_page_count if current else None,
        }
    )
