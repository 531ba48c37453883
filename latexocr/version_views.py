"""The review page's own URLs: the uploaded PDF, each version's .tex and PDF, edit, restore,
repair on demand. Every one is the owner's alone (else 404); every POST checks CSRF.

No request waits for TeX or Gemini: an edit or a repair is saved, queued, and the page polls
(or, without JavaScript, refreshes itself) until the worker is done.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from latexocr.conversions.selectors import (
    conversion_can_be_retried,
    conversion_get_owned,
    conversion_quota_remaining,
)
from latexocr.models import Conversion, Version
from latexocr.review.selectors import (
    conversion_source_pdf,
    repair_request_latest,
    version_current,
    version_get_owned,
    version_list,
    version_recompiles_left,
)
from latexocr.review.services import (
    LatexTooLarge,
    NothingToRepair,
    RecompileLimitReached,
    RepairQuotaExceeded,
    latex_max_bytes,
    repair_request,
    version_edit,
    version_restore,
)
from latexocr.tex.checking import repair_backend, repair_configured
from latexocr.tex.errors import errors_shown
from latexocr.views import OVERLEAF_DOCS_URL, PDF_CSP, _filename

# Room for the multipart envelope and the CSRF token around the LaTeX itself.
FORM_OVERHEAD_BYTES = 16 * 1024


def _repair_configured(conversion: Conversion) -> bool:
    # Gemini, or the self-hosted model on a site (or for a conversion) that uses it.
    return repair_configured(conversion_backend=conversion.backend)


def editor_context(
    conversion: Conversion, *, user: Any, submitted_latex: str | None = None
) -> dict[str, object]:
    """What the result page shows of the versions: current one, list, editor, limits."""
    if conversion.status != Conversion.Status.DONE:
        return {}
    current = version_current(conversion=conversion)
    latest_repair = repair_request_latest(conversion=conversion)
    repair_pending = latest_repair is not None and latest_repair.is_pending
    gemini_configured = _repair_configured(conversion)
    return {
        "current": current,
        "versions": version_list(conversion=conversion),
        "editor_latex": current.latex if submitted_latex is None and current else submitted_latex,
        "recompiles_left": version_recompiles_left(user=user),
        "recompiles_per_hour": settings.LATEXOCR_RECOMPILES_PER_HOUR,
        "max_latex_kb": settings.LATEXOCR_MAX_LATEX_KB,
        "gemini_configured": gemini_configured,
        # The repair goes to the self-hosted model: the page names "the model", not Gemini.
        "repair_by_model": repair_backend(conversion_backend=conversion.backend) == "openai",
        "latest_repair": latest_repair,
        "repair_pending": repair_pending,
        "can_repair": (
            gemini_configured
            and current is not None
            and current.compile_status == Version.CompileStatus.FAILS
            and not repair_pending
            and conversion_quota_remaining(user=user) != 0
        ),
        # Without JavaScript, the page refreshes itself while the worker has something to do.
        "waiting_for_worker": repair_pending or (current is not None and current.is_compiling),
        "overleaf_url": OVERLEAF_DOCS_URL,
        "tex_filename": _filename(conversion, ".tex"),
    }


@login_required
@require_GET
def detail(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """The result page: progress, or the review (side by side, editor, versions)."""
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    return _render_detail(request, conversion, status=200, edit_error="")


def _render_detail(
    request: AuthenticatedHttpRequest,
    conversion: Conversion,
    *,
    status: int,
    edit_error: str,
    submitted_latex: str | None = None,
) -> HttpResponse:
    context: dict[str, object] = {
        "conversion": conversion,
        "can_be_retried": conversion_can_be_retried(conversion=conversion),
        "edit_error": edit_error,
    }
    context.update(editor_context(conversion, user=request.user, submitted_latex=submitted_latex))
    return render(request, "latexocr/detail.html", context, status=status)


def _done_conversion(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> Conversion:
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    if conversion.status != Conversion.Status.DONE:
        raise Http404
    return conversion


def _rate_message() -> str:
    return _(
        "Vous avez recompilé %(limit)d fois en une heure, le maximum : attendez un peu avant "
        "d’enregistrer une nouvelle version. Votre texte est toujours dans l’éditeur."
    ) % {"limit": settings.LATEXOCR_RECOMPILES_PER_HOUR}


def _too_large_message() -> str:
    return _("Ce LaTeX dépasse la taille maximale de %(max_kb)d Ko : rien n’a été enregistré.") % {
        "max_kb": settings.LATEXOCR_MAX_LATEX_KB
    }


@login_required
@csrf_exempt  # checked by _edit_checked, once the size is known to be reasonable
@require_POST
def edit(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """Save the editor's LaTeX as the newest version; the worker compiles it."""
    conversion = _done_conversion(request, conversion_id)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > latex_max_bytes() + FORM_OVERHEAD_BYTES:
        # Not read at all (so neither is its CSRF token): nothing stored, nothing changed.
        return _render_detail(request, conversion, status=413, edit_error=_too_large_message())
    return _edit_checked(request, conversion)


@csrf_protect
def _edit_checked(request: AuthenticatedHttpRequest, conversion: Conversion) -> HttpResponse:
    latex = request.POST.get("latex")
    if latex is None or not latex.strip():
        return _render_detail(
            request,
            conversion,
            status=400,
            edit_error=_("Le LaTeX envoyé est vide : rien n’a été enregistré."),
        )
    # Browsers send a textarea's line breaks as CRLF.
    latex = latex.replace("\r\n", "\n")
    current = version_current(conversion=conversion)
    if current is not None and current.latex == latex:
        messages.info(
            request,
            _("Rien n’a changé depuis la version %(number)d.") % {"number": current.number},
        )
        return redirect("latexocr:detail", conversion_id=conversion.pk)
    try:
        version = version_edit(conversion=conversion, user=request.user, latex=latex)
    except LatexTooLarge:
        return _render_detail(request, conversion, status=413, edit_error=_too_large_message())
    except RecompileLimitReached:
        return _render_detail(
            request, conversion, status=429, edit_error=_rate_message(), submitted_latex=latex
        )
    messages.success(
        request,
        _("Version %(number)d enregistrée : compilation en cours.") % {"number": version.number},
    )
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_POST
def restore(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    conversion = _done_conversion(request, conversion_id)
    try:
        version = version_restore(conversion=conversion, user=request.user, number=number)
    except Version.DoesNotExist as missing:
        raise Http404 from missing
    except RecompileLimitReached:
        return _render_detail(request, conversion, status=429, edit_error=_rate_message())
    messages.success(
        request,
        _("La version %(old)d est restaurée : c’est désormais la version %(new)d.")
        % {"old": number, "new": version.number},
    )
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_POST
def repair(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """One Gemini repair round of the current version and its errors, in the background."""
    conversion = _done_conversion(request, conversion_id)
    if not _repair_configured(conversion):
        return _render_detail(
            request,
            conversion,
            status=409,
            edit_error=_("La correction par Gemini n’est pas disponible sur ce serveur."),
        )
    try:
        repair_request(conversion=conversion, user=request.user)
    except RepairQuotaExceeded:
        return _render_detail(
            request,
            conversion,
            status=429,
            edit_error=_(
                "Vous avez atteint votre quota de conversions pour aujourd’hui (une correction "
                "par Gemini compte pour une conversion)."
            ),
        )
    except NothingToRepair:
        messages.info(
            request,
            _("Seule une version qui ne se compile pas peut être corrigée, une fois à la fois."),
        )
        return redirect("latexocr:detail", conversion_id=conversion.pk)
    messages.success(request, _("Correction demandée à Gemini : la nouvelle version arrive."))
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_GET
@never_cache
def version_status(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> JsonResponse:
    """Where the compilation of a version stands (the page polls it while it compiles)."""
    version = version_get_owned(user=request.user, conversion_id=conversion_id, number=number)
    latest_repair = repair_request_latest(conversion=version.conversion)
    return JsonResponse(
        {
            "number": version.number,
            "compile_status": version.compile_status,
            "compile_status_label": version.get_compile_status_display(),
            "compiling": version.is_compiling,
            "errors": errors_shown(version.compile_errors),
            "compiled_page_count": version.compiled_page_count,
            "pdf_url": (
                reverse("latexocr:version_pdf", args=[conversion_id, number])
                if version.has_pdf
                else None
            ),
            "repair_pending": latest_repair is not None and latest_repair.is_pending,
            "newest": version.conversion.versions.order_by("-number")
            .values_list("number", flat=True)
            .first(),
        }
    )


@login_required
@require_GET
def version_tex(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    """A version's .tex as plain text, to read in the browser."""
    version = version_get_owned(user=request.user, conversion_id=conversion_id, number=number)
    response = HttpResponse(version.latex, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'inline; filename="{_filename(version.conversion, f"-v{number}.tex")}"'
    )
    return response


@login_required
@require_GET
def version_tex_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    version = version_get_owned(user=request.user, conversion_id=conversion_id, number=number)
    response = HttpResponse(version.latex, content_type="application/x-tex; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_filename(version.conversion, f"-v{number}.tex")}"'
    )
    return response


def _version_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int, disposition: str
) -> HttpResponse:
    version = version_get_owned(
        user=request.user, conversion_id=conversion_id, number=number, with_pdf=True
    )
    if version.compiled_pdf is None:
        raise Http404
    response = HttpResponse(bytes(version.compiled_pdf), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'{disposition}; filename="{_filename(version.conversion, f"-v{number}.pdf")}"'
    )
    return response


@login_required
@require_GET
@xframe_options_sameorigin
@csp_override(PDF_CSP)
@cache_control(private=True)
def version_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    """A version's compiled PDF, inline (the page frames the current one)."""
    return _version_pdf(request, conversion_id, number, "inline")


@login_required
@require_GET
@cache_control(private=True)
def version_pdf_download(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, number: int
) -> HttpResponse:
    return _version_pdf(request, conversion_id, number, "attachment")


@login_required
@require_GET
@xframe_options_sameorigin
@csp_override(PDF_CSP)
@cache_control(private=True)
def source_pdf(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID
) -> StreamingHttpResponse:
    """The PDF the student uploaded, inline, to compare with the compiled one."""
    conversion, chunks = conversion_source_pdf(user=request.user, conversion_id=conversion_id)
    # Streamed chunk by chunk, as stored: the process never holds the whole upload.
    response = StreamingHttpResponse(chunks, content_type="application/pdf")
    response["Content-Length"] = str(conversion.size_bytes)
    response["Content-Disposition"] = f'inline; filename="{_filename(conversion, "-depose.pdf")}"'
    return response
