"""The request type of views behind `login_required`: `request.user` is our `User`.

Annotating such a view's `request` as `AuthenticatedHttpRequest` gives the type checker the
logged-in user without a cast or an assert in every view (healthchecks.io does the same); a
view that also serves anonymous callers narrows its request with `is_logged_in`.
"""

from __future__ import annotations

from typing import TypeGuard

from django.http import HttpRequest

from accounts.models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def is_logged_in(request: HttpRequest) -> TypeGuard[AuthenticatedHttpRequest]:
    """For views open to anonymous callers that answer them differently (JSON 401s)."""
    return request.user.is_authenticated
