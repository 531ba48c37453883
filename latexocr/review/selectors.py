"""Reads on a conversion's versions. Lists never load the LaTeX or the PDF of each version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from latexocr.conversions.storage import pdf_chunks
from latexocr.models import Conversion, RepairRequest, Version

HEAVY_FIELDS = ("latex", "compiled_pdf", "compile_log_excerpt")
# Versions that cost a compilation (or a copy of one): what the hourly rate counts.
RATED_ORIGINS = (Version.Origin.EDITED, Version.Origin.RESTORED)


def version_list(*, conversion: Conversion) -> list[Version]:
    """The conversion's versions, newest first, without their LaTeX or PDF."""
    return list(conversion.versions.defer(*HEAVY_FIELDS).order_by("-number"))


def version_current(*, conversion: Conversion, with_latex: bool = True) -> Version | None:
    """The newest version, with its LaTeX unless told otherwise, never its PDF; None before
    the conversion is done."""
    deferred = ("compiled_pdf",) if with_latex else ("compiled_pdf", "latex")
    return conversion.versions.defer(*deferred).order_by("-number").first()


def version_get_owned(
    *, user: User, conversion_id: object, number: int, with_pdf: bool = False
) -> Version:
    """Version `number` of the user's conversion, or Http404 (also for someone else's)."""
    versions = Version.objects.select_related("conversion").defer(
        "conversion__latex",
        *(() if with_pdf else ("compiled_pdf",)),
    )
    return get_object_or_404(
        versions,
        conversion_id=conversion_id,
        conversion__owner=user,
        conversion__status=Conversion.Status.DONE,
        number=number,
    )


def version_recompiles_left(*, user: User) -> int | None:
    """Edits and restores the user may still make this hour (None: no limit)."""
    limit = settings.LATEXOCR_RECOMPILES_PER_HOUR
    if limit <= 0:
        return None
    used = Version.objects.filter(
        conversion__owner=user,
        origin__in=RATED_ORIGINS,
        created_at__gte=timezone.now() - timedelta(hours=1),
    ).count()
    return max(0, limit - used)


def repair_request_latest(*, conversion: Conversion) -> RepairRequest | None:
    return conversion.repair_requests.order_by("-created_at").first()


def conversion_source_pdf(
    *, user: User, conversion_id: object
) -> tuple[Conversion, Iterator[bytes]]:
    """The user's conversion (name and size only) and its uploaded PDF's chunks, or Http404."""
    conversion = get_object_or_404(
        Conversion.objects.only("pk", "owner", "original_filename", "size_bytes"),
        pk=conversion_id,
        owner=user,
    )
    return conversion, pdf_chunks(conversion_id=conversion.pk)
