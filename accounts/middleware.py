"""Session policy and the forced first-login password change, applied to every page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.session_policy import LOGIN_AT_KEY, MUST_CHANGE_PASSWORD_KEY


class SessionLifetimeMiddleware:
    """Ends a session SESSION_MAX_AGE_S after login, however active it has been.

    The inactivity timeout is Django's own (SESSION_COOKIE_AGE renewed on every request by
    SESSION_SAVE_EVERY_REQUEST); without this absolute limit a session kept busy would
    live for ever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            login_at = request.session.setdefault(LOGIN_AT_KEY, now)
            if now - int(login_at) > settings.SESSION_MAX_AGE_S:
                logout(request)
                messages.info(request, _("Votre session a expiré : reconnectez-vous."))
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class ForcedPasswordChangeMiddleware:
    """Sends a student still on the first-login password to the password change page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and request.session.get(MUST_CHANGE_PASSWORD_KEY):
            allowed = (
                reverse("accounts:password_change"),
                reverse("accounts:logout"),
                reverse("set_language"),
            )
            if request.path not in allowed and not request.path.startswith(
                "/" + settings.STATIC_URL.lstrip("/")
            ):
                return redirect("accounts:password_change")
        return self.get_response(request)
