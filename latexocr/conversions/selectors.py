"""Reads on conversions. Lists never load the PDF or the LaTeX (both can weigh megabytes)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from accounts.models import User
from latexocr.engines.backends import backend_configured
from latexocr.models import Conversion, RepairRequest, Version
from platform_site.core.quotas import daily_quota_remaining

HEAVY_FIELDS = ("latex",)


def conversion_list_recent(*, user: User, limit: int = 5) -> list[Conversion]:
    """The user's latest conversions, newest first (home page)."""
    return list(conversion_list(user=user)[:limit])


def conversion_list(*, user: User) -> QuerySet[Conversion]:
    return conversion_with_current_compile(
        Conversion.objects.filter(owner=user).defer(*HEAVY_FIELDS).order_by("-created_at")
    )


def conversion_with_current_compile(conversions: QuerySet[Conversion]) -> QuerySet[Conversion]:
    """Each conversion with its current version's compile status (`current_compile_status`,
    None before the conversion is done): the column of the history and of the admin."""
    current = Version.objects.filter(conversion=OuterRef("pk")).order_by("-number")
    return conversions.annotate(
        current_compile_status=Subquery(current.values("compile_status")[:1])
    )


def conversion_get_owned(
    *, user: User, conversion_id: object, with_latex: bool = False
) -> Conversion:
    """The user's conversion, or Http404 — also when it exists but belongs to someone else.

    Neither the uploaded PDF (latexocr.conversions.storage) nor the LaTeX is loaded: the
    versions hold what the pages show.
    """
    return get_object_or_404(Conversion.objects.defer("latex"), pk=conversion_id, owner=user)


def conversion_find_duplicate(
    *, user: User, sha256: str, backend: str, model: str, prompt_sha256: str
) -> Conversion | None:
    """An earlier conversion of the same PDF with the same model and prompt, not failed."""
    return (
        conversion_list(user=user)
        .filter(sha256=sha256, backend=backend, model=model, prompt_sha256=prompt_sha256)
        .exclude(status=Conversion.Status.FAILED)
        .first()
    )


def conversion_quota_remaining(*, user: User) -> int | None:
    """Conversions the user may still start today (None: no limit). Today is in TIME_ZONE.

    A repair round asked for from the result page counts as one conversion. Counted:
    conversions that cost something (`charged`): queued, running and done ones, and failures
    after Gemini did work. A failure before any upstream call succeeded (no text found by
    the local engine, Gemini refusing or unavailable, our own error) is not.
    """
    return daily_quota_remaining(
        Conversion.objects.filter(owner=user, charged=True),
        RepairRequest.objects.filter(owner=user),
        quota=settings.LATEXOCR_DAILY_QUOTA,
    )


def conversion_can_be_retried(*, conversion: Conversion) -> bool:
    """Whether the page offers to run `conversion` again (its backend configured now)."""
    return conversion.can_be_retried(backend_configured=backend_configured(conversion.backend))
