"""The privacy notice (GDPR art. 13), public: read before signing in, linked from every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from platform_site.privacy.notice import codegen_recipient, latexocr_recipient, retention_days


def notice(request: HttpRequest) -> HttpResponse:
    context = {
        "controller": settings.PRIVACY_CONTROLLER,
        "dpo_email": settings.PRIVACY_DPO_EMAIL,
        "recipients": [codegen_recipient(), latexocr_recipient()],
        "days": retention_days(),
    }
    return render(request, "privacy/notice.html", context)
