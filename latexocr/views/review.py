"""The review's actions on a finished conversion: edit, restore, repair on demand, and the
status of a version's compile that the page polls. Every POST checks CSRF.

No request waits for TeX or Gemini: an edit or a repair is saved, queued, and the page polls
(or, without JavaScript, refreshes itself) until the worker is done.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from latexocr.models import Conversion, Version
from latexocr.review.selectors import repair_request_latest, version_current, version_get_owned
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
from latexocr.tex.checking import repair_configured
from latexocr.tex.errors import errors_shown
from latexocr.views.detail import done_conversion_get_owned, render_detail

# Room for the multipart envelope and the CSRF token around the LaTeX itself.
FORM_OVERHEAD_BYTES = 16 * 1024


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
    conversion = done_conversion_get_owned(request, conversion_id)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > latex_max_bytes() + FORM_OVERHEAD_BYTES:
        # Not read at all (so neither is its CSRF token): nothing stored, nothing changed.
        return render_detail(request, conversion, status=413, edit_error=_too_large_message())
    return _edit_checked(request, conversion)


@csrf_protect
def _edit_checked(request: AuthenticatedHttpRequest, conversion: Conversion) -> HttpResponse:
    latex = request.POST.get("latex")
    if latex is None or not latex.strip():
        return render_detail(
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
        return render_detail(request, conversion, status=413, edit_error=_too_large_message())
    except RecompileLimitReached:
        return render_detail(
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
    conversion = done_conversion_get_owned(request, conversion_id)
    try:
        version = version_restore(conversion=conversion, user=request.user, number=number)
    except Version.DoesNotExist as missing:
        raise Http404 from missing
    except RecompileLimitReached:
        return render_detail(request, conversion, status=429, edit_error=_rate_message())
    messages.success(
        request,
        _("La version %(old)d est restaurée : c’est désormais la version %(new)d.")
        % {"old": number, "new": version.number},
    )
    return redirect("latexocr:detail", conversion_id=conversion.pk)


@login_required
@require_POST
def repair(request: AuthenticatedHttpRequest, conversion_id: uuid.UUID) -> HttpResponse:
    """One repair round by the model of the current version and its errors, in the background."""
    conversion = done_conversion_get_owned(request, conversion_id)
    if not repair_configured(conversion_backend=conversion.backend):
        return render_detail(
            request,
            conversion,
            status=409,
            edit_error=_("La correction automatique n’est pas disponible sur ce serveur."),
        )
    try:
        repair_request(conversion=conversion, user=request.user)
    except RepairQuotaExceeded:
        return render_detail(
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
