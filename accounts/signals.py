"""Login bookkeeping: the audit log of every attempt, and session markers set at login."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.client_ip import client_ip_address
from accounts.models import Student, User
from accounts.session_policy import LOGIN_AT_KEY, MUST_CHANGE_PASSWORD_KEY

logger = logging.getLogger("accounts.login")


@receiver(user_logged_in)
def on_user_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None:
        return
    address = client_ip_address(request)
    logger.info("login succeeded username=%s ip=%s", user.get_username(), address)
    request.session[LOGIN_AT_KEY] = int(time.time())
    # Both backends load the profile with the user (select_related): no query here. A user
    # without one (staff) raises RelatedObjectDoesNotExist, an AttributeError.
    student: Student | None = getattr(user, "student", None)
    if student is not None and student.must_change_password:
        request.session[MUST_CHANGE_PASSWORD_KEY] = True
    # This user's own failures from this address are forgiven by the lockout handler
    # (accounts.lockout), which knows from its count whether there are any.


@receiver(user_login_failed)
def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` arrives with the password already masked by Django; only the username
    # is logged anyway.
    locked_out = bool(getattr(request, "axes_locked_out", False))
    logger.warning(
        "login failed username=%s ip=%s locked_out=%s",
        str(credentials.get("username", ""))[:150],
        client_ip_address(request) if request is not None else "-",
        locked_out,
    )
