"""Writes on conversions from requests and commands: create, retry, reap, delete.

Every status change goes through a guarded transition; the work itself runs in the worker
(latexocr.conversions.runs), enqueued through latexocr.enqueue once the transaction commits.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from latexocr.conversions.runs import conversion_fail
from latexocr.conversions.selectors import conversion_find_duplicate, conversion_quota_remaining
from latexocr.conversions.storage import pdf_sha256, pdf_store
from latexocr.engines import backends
from latexocr.enqueue import conversion_run_enqueue
from latexocr.models import Conversion
from platform_site.core.failures import failure_kind
from platform_site.core.quotas import limit_reached

logger = logging.getLogger(__name__)


INTERRUPTED = failure_kind(
    "latexocr.interrupted",
    gettext_lazy(
        "La conversion a été interrompue %(count)s fois sans aboutir. Si cela se reproduit "
        "avec ce PDF, signalez-le à l’équipe."
    ),
    retry=False,
    charged=True,
)


class QuotaExceeded(Exception):
    """The user has used up today's conversions."""


class BackendNotConfigured(Exception):
    """The configured engine cannot run here: nothing is stored, nothing is counted."""


class RetryCannotSucceed(Exception):
    """The conversion failed in a way running it again would repeat."""


class RunLimitReached(Exception):
    """The conversion has run LATEXOCR_MAX_RUNS times already."""


class DuplicateConversion(Exception):
    """The user converted this PDF already, with the same backend, model and prompt."""

    def __init__(self, earlier: Conversion) -> None:
        super().__init__(str(earlier.pk))
        self.earlier = earlier


def conversion_model_and_prompt(*, backend: str, page_count: int) -> tuple[str, str]:
    """The model and prompt fingerprint a new conversion of `page_count` pages would use."""
    return backends.model_and_prompt(backend=backend, page_count=page_count)


@transaction.atomic
def conversion_create(
    *,
    owner: User,
    pdf: bytes | IO[bytes],
    original_filename: str,
    page_count: int,
    sha256: str = "",
    allow_duplicate: bool = False,
) -> Conversion:
    """Store a validated PDF as a queued conversion; its task is enqueued once committed.

    `pdf` is best an open file (the upload's spooled file): it is copied to the database one
    chunk at a time (latexocr.conversions.storage), never held whole; `sha256`, when the
    caller has it already (the upload handler hashes as the body arrives), saves reading it twice.

    Raises DuplicateConversion, unless `allow_duplicate`, when an earlier conversion of the
    same PDF would give the same result (a conversion costs Gemini calls and quota).
    """
    _require_backend()
    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    backend = settings.LATEXOCR_BACKEND
    model, prompt_sha256 = conversion_model_and_prompt(backend=backend, page_count=page_count)
    sha256 = sha256 or pdf_sha256(source)
    if not allow_duplicate:
        earlier = conversion_find_duplicate(
            user=owner, sha256=sha256, backend=backend, model=model, prompt_sha256=prompt_sha256
        )
        if earlier is not None:
            raise DuplicateConversion(earlier)
    if limit_reached(user_id=owner.pk, remaining=lambda: conversion_quota_remaining(user=owner)):
        raise QuotaExceeded
    conversion = Conversion(
        owner=owner,
        original_filename=original_filename[:255],
        # Known once the chunks are written, in this same transaction.
        size_bytes=0,
        page_count=page_count,
        sha256=sha256,
        backend=backend,
        model=model,
        prompt_sha256=prompt_sha256,
    )
    conversion.full_clean(exclude=["size_bytes"])
    conversion.save()
    conversion.size_bytes, stored_sha256 = pdf_store(conversion=conversion, pdf=source)
    if stored_sha256 != sha256:
        # The file changed between its hash and its storage: never record a wrong hash.
        raise ValueError("the PDF changed while it was stored")
    conversion.save(update_fields=["size_bytes"])
    conversion_run_enqueue(conversion_id=str(conversion.pk))
    return conversion


@transaction.atomic
def conversion_retry(*, conversion: Conversion) -> Conversion:
    """Queue a failed conversion again, with the PDF already stored (no new upload).

    A conversion whose failure cost nothing was not counted: running it again counts it,
    so it needs room in today's quota like a new one.
    """
    conversion = Conversion.objects.select_for_update().get(pk=conversion.pk)
    conversion.check_transition(Conversion.Status.QUEUED)
    if conversion.runs_left <= 0:
        raise RunLimitReached(
            _(
                "Cette conversion a déjà été lancée %(count)d fois sans aboutir : vérifiez le "
                "PDF (lisible, pas trop de pages) et déposez-le de nouveau."
            )
            % {"count": conversion.attempts}
        )
    _require_backend(conversion.backend)
    if not conversion.error_retryable:
        raise RetryCannotSucceed
    if not conversion.charged and limit_reached(
        user_id=conversion.owner_id,
        remaining=lambda: conversion_quota_remaining(user=conversion.owner),
    ):
        raise QuotaExceeded
    conversion.status = Conversion.Status.QUEUED
    conversion.failure_clear()
    conversion.pages_done = 0
    conversion.started_at = None
    conversion.finished_at = None
    conversion.save(
        update_fields=[
            "status", "pages_done", "started_at", "finished_at", *Conversion.FAILURE_FIELDS,
        ]
    )  # fmt: skip
    conversion_run_enqueue(conversion_id=str(conversion.pk))
    return conversion


def conversion_reap_stuck(*, stuck_after_s: int, dry_run: bool = False) -> list[Conversion]:
    """Requeue running conversions silent for longer than `stuck_after_s` (their worker died).

    Silent: no heartbeat (claim, progress, compile step) in that time. A conversion that has
    already run LATEXOCR_MAX_RUNS times fails instead, so a PDF that kills its worker every
    time does not loop forever.
    """
    cutoff = timezone.now() - timedelta(seconds=stuck_after_s)
    reaped: list[Conversion] = []
    with transaction.atomic():
        stuck = (
            Conversion.objects.select_for_update(skip_locked=True)
            .alias(last_sign_of_life=Coalesce("heartbeat_at", "started_at"))
            .filter(status=Conversion.Status.RUNNING, last_sign_of_life__lt=cutoff)
            .defer("latex")
        )
        for conversion in stuck:
            reaped.append(conversion)
            if dry_run:
                continue
            if conversion.runs_left <= 0:
                conversion_fail(
                    conversion=conversion,
                    failure=INTERRUPTED.failure(count=conversion.attempts),
                )
                continue
            conversion.check_transition(Conversion.Status.QUEUED)
            conversion.status = Conversion.Status.QUEUED
            conversion.pages_done = 0
            conversion.save(update_fields=["status", "pages_done"])
            conversion_run_enqueue(conversion_id=str(conversion.pk))
    return reaped


def _require_backend(backend: str | None = None) -> None:
    if not backends.backend_configured(backend):
        logger.warning(
            "latexocr: backend %s cannot run: set %s",
            backend or settings.LATEXOCR_BACKEND,
            backends.missing_setting(),
        )
        raise BackendNotConfigured


def conversion_delete(*, conversion: Conversion) -> None:
    """Remove the conversion with its PDF, its result, its versions and repair requests."""
    conversion.delete()
