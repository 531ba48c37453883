"""Pages that belong to the site as a whole rather than to one app."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.http import AuthenticatedHttpRequest
from codegen.selectors import question_list_recent, question_quota_remaining
from latexocr.conversions.selectors import conversion_list_recent, conversion_quota_remaining


def root(request: HttpRequest) -> HttpResponse:
    return redirect("home" if request.user.is_authenticated else "accounts:login")


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "questions": question_list_recent(user=user, limit=5),
        "question_quota_remaining": question_quota_remaining(user=user),
        "conversions": conversion_list_recent(user=user, limit=5),
        "conversion_quota_remaining": conversion_quota_remaining(user=user),
    }
    return render(request, "home.html", context)


def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (déclaration d'accessibilité) French public bodies must
    publish: the operator's name and contact come from settings, the audit's results from
    docs/accessibility.md (kept in step with the page by hand)."""
    contact = settings.ACCESSIBILITY_CONTACT
    context = {
        "organisation": settings.ACCESSIBILITY_ORGANISATION,
        "contact": contact,
        "contact_is_email": "@" in contact and not contact.startswith(("http://", "https://")),
    }
    return render(request, "accessibility.html", context)
