"""Pages of the PDF-to-LaTeX tool. Every conversion page is the owner's alone (else 404)."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.csp import CSP
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from latexocr.conversions.selectors import (
    conversion_can_be_retried,
    conversion_get_owned,
    conversion_list,
    conversion_quota_remaining,
)
from latexocr.conversions.services import (
    BackendNotConfigured,
    DuplicateConversion,
    QuotaExceeded,
    RetryCannotSucceed,
    RunLimitReached,
    conversion_create,
    conversion_delete,
    conversion_retry,
)
from latexocr.conversions.uploads import SizeLimitedUploadHandler, upload_slots
from latexocr.engines import backends
from latexocr.forms import UploadForm
from latexocr.models import Conversion, InvalidTransition
from latexocr.tex.errors import errors_shown

OVERLEAF_DOCS_URL = "https://www.overleaf.com/docs"
# The compiled PDF is shown in an <iframe> of its own page. Browsers' PDF viewers are plugin
# documents, which the site-wide `object-src 'none'` would block; nothing else may load.
PDF_CSP = {
    "default-src": [CSP.NONE],
    "object-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
}


def _unavailable_message() -> str:
    # The student's sentence; staff also see the setting to change (never students).
    return _(
        "La conversion de PDF n’est pas encore disponible sur ce site ; prévenez votre enseignant."
    )


def _render_upload(
    request: AuthenticatedHttpRequest, form: UploadForm, *, status: int = 200, **context: object
) -> HttpResponse:
    context = {
        "form": form,
        "quota_remaining": conversion_quota_remaining(user=request.user),
        "backend": settings.LATEXOCR_BACKEND,
        "backend_configured": backends.backend_configured(),
        "unavailable_message": _unavailable_message(),
        "missing_setting": backends.missing_setting(),
        "readable_documents": backends.readable_documents(),
        **context,
    }
    return render(request, "latexocr/upload.html", context, status=status)


@login_required
@csrf_exempt  # checked by _upload_checked, once the body has been read by our handler
@require_http_methods(["GET", "POST"])
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_upload(request, UploadForm())
    if not backends.backend_configured():
        return _render_upload(request, UploadForm(), status=503)
    if conversion_quota_remaining(user=request.user) == 0:
        return _render_upload(request, UploadForm(), status=429, quota_exceeded=True)

    if not upload_slots.acquire(timeout_s=settings.LATEXOCR_UPLOAD_WAIT_S):
        # The body was not read (so not the CSRF token either): nothing stored, nothing changed.
        busy = _("Trop de dépôts sont en cours sur le serveur : renvoyez le PDF dans un instant.")
        return _render_upload(request, UploadForm(), status=429, error=busy)
    try:
        return _upload_read(request)
    finally:
        upload_slots.release()


def _upload_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    handler = SizeLimitedUploadHandler(
        request, max_bytes=settings.LATEXOCR_MAX_UPLOAD_MB * 1024 * 1024
    )
    request.upload_handlers = [handler]
    request.POST  # noqa: B018 - parse the body now, through the size-limited handler
    if handler.too_large:
        # Nothing was stored and nothing will change: answer before the CSRF check, whose
        # token was in the part of the body that was not read.
        form = UploadForm(data={})
        form.full_clean()
        form.errors["pdf"] = form.error_class(
            [
                _("Ce fichier dépasse la taille maximale de %(max_mb)d Mo.")
                % {"max_mb": settings.LATEXOCR_MAX_UPLOAD_MB}
            ]
        )
        return _render_upload(request, form, status=413)
    return _upload_checked(request)


@csrf_protect
def _upload_checked(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_upload(request, form, status=400)
    try:
        conversion = conversion_create(
            owner=request.user,
            pdf=form.cleaned_data["pdf"].file,
            sha256=form.sha256,
            original_filename=form.cleaned_data["pdf"].name or "document.pdf",
            page_count=form.page_count,
            allow_duplicate=form.cleaned_data["force"],
        )
    except DuplicateConversion as duplicate:
        return _render_upload(request, UploadForm(), duplicate=duplicate.earlier)
    except QuotaExceeded:
        return _render_upload(request, UploadForm(), status=429, quota_exceeded=True)
    except BackendNotConfigured:
        return _render_upload(request, UploadForm(), status=503)
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_GET
@never_cache
def status(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> JsonResponse:
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    staff = request.user.is_staff
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
            "compile_status": conversion.compile_status,
            "compile_status_label": conversion.get_compile_status_display(),
            # Operator wording (why the check was skipped, why the repair failed): staff only.
            "compile_skipped_reason": conversion.compile_skipped_reason if staff else "",
            "compile_errors": errors_shown(conversion.compile_errors),
            "repaired_compile_errors": errors_shown(conversion.repaired_compile_errors),
            "repair_error": conversion.repair_error if staff else "",
            "compiled_version": conversion.compiled_version,
            "compiled_page_count": conversion.compiled_page_count,
        }
    )


def _filename(conversion: Conversion, suffix: str) -> str:
    # Built by us: the user's file name only contributes a slug, never a path or a quote.
    stem = slugify(PurePath(conversion.original_filename).stem)[:60] or "conversion"
    return f"{stem}-{str(conversion.pk)[:8]}{suffix}"


@login_required
@require_GET
def download(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """The LaTeX as Gemini (or the text layer) gave it."""
    conversion = conversion_get_owned(
        user=request.user, conversion_id=conversion_id, with_latex=True
    )
    if conversion.status != Conversion.Status.DONE:
        raise Http404
    return _tex_attachment(conversion.latex, filename=_filename(conversion, ".tex"))


@login_required
@require_GET
def download_repaired(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """The LaTeX corrected by the repair round, when there was one."""
    conversion = conversion_get_owned(
        user=request.user, conversion_id=conversion_id, with_latex=True
    )
    if conversion.status != Conversion.Status.DONE or not conversion.latex_repaired:
        raise Http404
    return _tex_attachment(
        conversion.latex_repaired, filename=_filename(conversion, "-corrige.tex")
    )


def _tex_attachment(latex: str, *, filename: str) -> HttpResponse:
    response = HttpResponse(latex, content_type="application/x-tex; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
@xframe_options_sameorigin
@csp_override(PDF_CSP)
@cache_control(private=True)
def pdf(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """The compiled PDF, shown inline (the result page embeds it)."""
    return _pdf_response(request, conversion_id, disposition="inline")


@login_required
@require_GET
@cache_control(private=True)
def pdf_download(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    return _pdf_response(request, conversion_id, disposition="attachment")


def _pdf_response(
    request: AuthenticatedHttpRequest, conversion_id: uuid.UUID, *, disposition: str
) -> HttpResponse:
    conversion = conversion_get_owned(
        user=request.user, conversion_id=conversion_id, with_compiled_pdf=True
    )
    if conversion.status != Conversion.Status.DONE or conversion.compiled_pdf is None:
        raise Http404
    # SECURE_CONTENT_TYPE_NOSNIFF adds X-Content-Type-Options: nosniff to every response.
    response = HttpResponse(bytes(conversion.compiled_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'{disposition}; filename="{_filename(conversion, ".pdf")}"'
    return response


@login_required
@require_GET
def history(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(conversion_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "latexocr/history.html", {"page": page})


@login_required
@require_POST
def retry(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    try:
        conversion_retry(conversion=conversion)
    except InvalidTransition:
        messages.warning(request, _("Seule une conversion échouée peut être relancée."))
    except RunLimitReached as error:
        messages.warning(request, str(error))
    except BackendNotConfigured:
        messages.warning(request, _unavailable_message())
    except RetryCannotSucceed:
        messages.warning(request, _("Relancer cette conversion échouerait de la même façon."))
    except QuotaExceeded:
        messages.warning(
            request,
            _("Vous avez atteint votre quota de conversions pour aujourd’hui. Revenez demain."),
        )
    else:
        messages.success(request, _("La conversion est relancée."))
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_POST
def delete(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    conversion = conversion_get_owned(user=request.user, conversion_id=conversion_id)
    name = conversion.original_filename
    if request.POST.get("confirm") != "yes":
        # One click removes the PDF and every version for good: the first asks to confirm.
        return render(request, "latexocr/delete_confirm.html", {"conversion": conversion})
    conversion_delete(conversion=conversion)
    messages.success(request, _("La conversion de « %(name)s » a été supprimée.") % {"name": name})
    return redirect("latexocr:history")
