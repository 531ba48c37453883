"""The privacy notice (GDPR art. 13), public; and "Mes données": a student's export and erasure."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedHttpRequest
from accounts.models import User
from platform_site.privacy.account_data import account_erase, account_export_zip
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


@login_required
def my_data(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "privacy/my_data.html", {"form": EraseForm(user=request.user)})


@login_required
def my_data_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    response = HttpResponse(account_export_zip(user=request.user), content_type="application/zip")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="mes-donnees-{stamp}.zip"'
    return response


@login_required
@require_POST
def my_data_erase(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = EraseForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "privacy/my_data.html", {"form": form}, status=400)
    user = request.user
    logout(request)
    account_erase(user=user)
    messages.success(request, _("Votre compte et toutes vos données ont été effacés."))
    return redirect("accounts:login")
