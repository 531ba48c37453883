"""Upload a PDF, list the conversions, retry or delete one (the owner's alone, else 404)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import AuthenticatedHttpRequest
from latexocr.conversions.selectors import (
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
from latexocr.models import InvalidTransition
from latexocr.views.common import unavailable_message


def _render_upload(
    request: AuthenticatedHttpRequest, form: UploadForm, *, status: int = 200, **context: object
) -> HttpResponse:
    context = {
        "form": form,
        "quota_remaining": conversion_quota_remaining(user=request.user),
        "backend": settings.LATEXOCR_BACKEND,
        "backend_configured": backends.backend_configured(),
        "unavailable_message": unavailable_message(),
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
        messages.warning(request, unavailable_message())
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
