"""Login bookkeeping: the audit log of every attempt, and session markers set at login."""

from __future__ import annotations

import logging
import time
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
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
    if Student.objects.filter(user=user, must_change_password=True).exists():
        request.session[MUST_CHANGE_PASSWORD_KEY] = True
    # Forgive only this user's own failures from this same address (see AXES_RESET_ON_SUCCESS);
    # most logins have none, and a look costs less than axes' delete (a select, then a
    # transaction).
    if AccessAttempt.objects.filter(ip_address=address, username=user.get_username()).exists():
        axes_reset(ip=address, username=user.get_username())


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
