"""The privacy notice (GDPR art. 13), public; and "Mes données": a student's export and erasure."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from platform_site.privacy.account_data import account_erase, account_export_zip
from platform_site.privacy.exports import (
    ExportExpired,
    account_export_chunks,
    account_export_is_inline,
    account_export_latest,
    account_export_ready_get,
    account_export_request,
)
from platform_site.privacy.notice import codegen_recipient, latexocr_recipient, retention_days


def notice(request: HttpRequest) -> HttpResponse:
    context = {
        "controller": settings.PRIVACY_CONTROLLER,
        "dpo_email": settings.PRIVACY_DPO_EMAIL,
        "recipients": [codegen_recipient(), latexocr_recipient()],
        "days": retention_days(),
    }
    return render(request, "privacy/notice.html", context)


class EraseForm(forms.Form):
    password = forms.CharField(
        label=_("Votre mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("Ce mot de passe n’est pas le bon."))
        return password


def _my_data_page(
    request: AuthenticatedHttpRequest, form: EraseForm, *, status: int = 200
) -> HttpResponse:
    export = account_export_latest(user=request.user, now=timezone.now())
    return render(request, "privacy/my_data.html", {"form": form, "export": export}, status=status)


def _zip_filename() -> str:
    return f"mes-donnees-{timezone.localdate().isoformat()}.zip"


@login_required
def my_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _my_data_page(request, EraseForm(user=request.user))


@login_required
@require_GET
@cache_control(private=True, no_store=True)
def my_data_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    if account_export_is_inline(user=request.user):
        response = HttpResponse(
            account_export_zip(user=request.user), content_type="application/zip"
        )
        response["Content-Disposition"] = f'attachment; filename="{_zip_filename()}"'
        return response
    # Asking again while one is being prepared queues nothing more.
    account_export_request(user=request.user, now=timezone.now())
    messages.info(
        request,
        _(
            "Vos données sont nombreuses : le fichier est en préparation. Revenez sur cette "
            "page dans quelques minutes pour le télécharger."
        ),
    )
    return redirect("my_data")


@login_required
@require_GET
@cache_control(private=True, no_store=True)
def my_data_export_download(
    request: AuthenticatedHttpRequest, export_id: uuid.UUID
) -> HttpResponse | StreamingHttpResponse:
    try:
        export = account_export_ready_get(
            user=request.user, export_id=export_id, now=timezone.now()
        )
    except ExportExpired:
        messages.error(request, _("Ce lien a expiré. Demandez un nouveau fichier de vos données."))
        return _my_data_page(request, EraseForm(user=request.user), status=410)
    # Streamed chunk by chunk, as stored: the web process never holds the whole file.
    response = StreamingHttpResponse(
        account_export_chunks(export=export), content_type="application/zip"
    )
    response["Content-Length"] = str(export.size_bytes)
    response["Content-Disposition"] = f'attachment; filename="{_zip_filename()}"'
    return response


@login_required
@require_POST
def my_data_erase(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EraseForm(request.POST, user=request.user)
    if not form.is_valid():
        return _my_data_page(request, form, status=400)
    user = request.user
    logout(request)
    account_erase(user=user)
    messages.success(request, _("Votre compte et toutes vos données ont été effacés."))
    return redirect("accounts:login")
