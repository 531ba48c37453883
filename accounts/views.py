"""Sign-up, login, logout and password change pages (thin: form, service, render)."""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.client_ip import client_ip_address
from accounts.forms import AccountPasswordChangeForm, LoginForm, RegisterForm
from accounts.http import AuthenticatedHttpRequest
from accounts.services import (
    TooManyRegistrations,
    UsernameTaken,
    registration_attempt_record,
    user_password_change,
    user_register,
)
from accounts.session_policy import MUST_CHANGE_PASSWORD_KEY


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if not settings.ACCOUNTS_REGISTRATION_OPEN:
        status = 403 if request.method == "POST" else 200
        return render(request, "accounts/register_closed.html", status=status)

    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            registration_attempt_record(ip_address=client_ip_address(request))
        except TooManyRegistrations:
            context = {"form": RegisterForm(), "too_many": True}
            return render(request, "accounts/register.html", context, status=429)
        if form.is_valid():
            try:
                user = user_register(
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password1"],
                )
            except UsernameTaken:
                form.add_error("username", _("Ce nom d’utilisateur est déjà pris."))
                status = 409
            else:
                login(request, user, backend="accounts.backends.AccountBackend")
                return redirect("home")
        else:
            status = 409 if form.username_taken() else 400
    return render(request, "accounts/register.html", {"form": form}, status=status)


class AccountLoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["registration_open"] = settings.ACCOUNTS_REGISTRATION_OPEN
        return context

    def form_invalid(self, form: Any) -> HttpResponse:
        # Wrong password and unknown user alike: the old service's 401 that scripts rely on.
        response = super().form_invalid(form)
        response.status_code = 401
        return response


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    form = AccountPasswordChangeForm(user, request.POST or None)
    status = 200
    if request.method == "POST":
        # The current password is a password guess like a login's: axes counts a wrong one
        # and locks the form (and the login) once the account or the address is locked.
        credentials = {"username": user.get_username()}
        if AxesProxyHandler.is_locked(request, credentials):
            return get_lockout_response(request, credentials=credentials)
        if form.is_valid():
            user_password_change(user=user, password=form.cleaned_data["new_password1"])
            # Keeps this session; every other session of the user ends (its hash is stale).
            update_session_auth_hash(request, user)
            request.session.pop(MUST_CHANGE_PASSWORD_KEY, None)
            messages.success(request, _("Votre mot de passe a été changé."))
            return redirect("home")
        if "old_password" in form.errors:
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if AxesProxyHandler.is_locked(request, credentials):
                return get_lockout_response(request, credentials=credentials)
        status = 400
    context = {"form": form, "first_login": form.first_login_student is not None}
    return render(request, "accounts/password_change.html", context, status=status)
