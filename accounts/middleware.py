"""Session policy and the forced first-login password change, applied to every page."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.session_policy import LOGIN_AT_KEY, MUST_CHANGE_PASSWORD_KEY, RENEWED_AT_KEY


def wants_json(request: HttpRequest) -> bool:
    """A script calling a JSON API (the page's own fetch included), not a browser page."""
    return request.accepts("application/json") and not request.accepts("text/html")


class SessionLifetimeMiddleware:
    """Ends a session SESSION_MAX_AGE_S after login, however active it has been, and renews
    its inactivity timeout (SESSION_COOKIE_AGE) at most once every SESSION_RENEW_AFTER_S.

    Renewing costs a write of the session row (and a new cookie): Django's
    SESSION_SAVE_EVERY_REQUEST did it on every request, ~1 ms of each question through
    gunicorn (docs/performance.md). Marking the session modified once a minute renews it
    the same way, so a session ends between SESSION_COOKIE_AGE minus a minute and
    SESSION_COOKIE_AGE after its last request. Without the absolute limit a session kept
    busy would live for ever.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            login_at = request.session.setdefault(LOGIN_AT_KEY, now)
            if now - int(login_at) > settings.SESSION_MAX_AGE_S:
                logout(request)
                expired = _("Votre session a expiré : reconnectez-vous.")
                if wants_json(request):
                    return JsonResponse({"error": expired}, status=401)
                messages.info(request, expired)
                return redirect_to_login(request.get_full_path())
            renewed_at = int(request.session.get(RENEWED_AT_KEY, 0))
            if now - renewed_at >= settings.SESSION_RENEW_AFTER_S:
                request.session[RENEWED_AT_KEY] = now  # saved, with a new expiry and cookie
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
                # A redirect to an HTML form means nothing to a script: it gets a 403 that
                # says what to do.
                if wants_json(request):
                    message = _("Changez d’abord votre mot de passe provisoire.")
                    return JsonResponse(
                        {"error": message, "password_change_url": allowed[0]}, status=403
                    )
                return redirect("accounts:password_change")
        return self.get_response(request)
