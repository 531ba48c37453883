"""Writes on conversions: create, run, finish, retry, reap, delete.

Every status change goes through a guarded transition, and starting a conversion is an atomic
claim (an UPDATE conditioned on the status), so a task delivered twice runs once.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from latexocr import backends
from latexocr.backends import ConversionFailed, ConversionResult
from latexocr.models import Conversion
from latexocr.selectors import conversion_quota_remaining

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    """The user has used up today's conversions."""


def conversion_model_and_prompt(*, backend: str, page_count: int) -> tuple[str, str]:
    """The model and prompt fingerprint a new conversion of `page_count` pages would use."""
    if backend == Conversion.Backend.LOCAL:
        return "", ""
    return settings.LATEXOCR_GEMINI_MODEL, backends.prompt_fingerprint(page_count=page_count)


@transaction.atomic
def conversion_create(
    *, owner: User, pdf: bytes, original_filename: str, page_count: int
) -> Conversion:
    """Store a validated PDF as a queued conversion; its task is enqueued once committed."""
    if conversion_quota_remaining(user=owner) == 0:
        raise QuotaExceeded
    backend = settings.LATEXOCR_BACKEND
    model, prompt_sha256 = conversion_model_and_prompt(backend=backend, page_count=page_count)
    conversion = Conversion(
        owner=owner,
        original_filename=original_filename[:255],
        size_bytes=len(pdf),
        page_count=page_count,
        sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
        backend=backend,
        model=model,
        prompt_sha256=prompt_sha256,
    )
    conversion.full_clean()
    conversion.save()
    _enqueue_on_commit(conversion)
    return conversion


def _enqueue_on_commit(conversion: Conversion) -> None:
    # Imported here: tasks imports this module for the work itself.
    from latexocr.tasks import conversion_run_task

    conversion_id = str(conversion.pk)
    transaction.on_commit(lambda: conversion_run_task.enqueue(conversion_id))


def conversion_run(*, conversion_id: str) -> None:
    """Claim a queued conversion, convert it and record the outcome. A no-op if not queued."""
    claimed = Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.QUEUED).update(
        status=Conversion.Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        pages_done=0,
        error="",
        attempts=F("attempts") + 1,
    )
    if not claimed:
        logger.info("conversion %s not queued any more: nothing to do", conversion_id)
        return
    conversion = Conversion.objects.get(pk=conversion_id)

    def record_progress(pages_done: int) -> None:
        Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.RUNNING).update(
            pages_done=pages_done
        )

    try:
        if conversion.backend == Conversion.Backend.LOCAL:
            result = backends.convert_locally(pdf=bytes(conversion.pdf))
        else:
            result = backends.convert_with_gemini(
                pdf=bytes(conversion.pdf),
                page_count=conversion.page_count,
                model=conversion.model,
                on_progress=record_progress,
            )
    except ConversionFailed as failure:
        _record_outcome(conversion, message=str(failure))
        return
    except Exception:
        logger.exception("conversion %s crashed", conversion_id)
        _record_outcome(
            conversion,
            message=_(
                "Erreur interne pendant la conversion. Relancez-la ; si cela se reproduit, "
                "signalez-le à l'équipe."
            ),
        )
        return
    _record_outcome(conversion, result=result)


def _record_outcome(
    conversion: Conversion, *, result: ConversionResult | None = None, message: str = ""
) -> None:
    try:
        if result is not None:
            conversion_complete(conversion=conversion, result=result)
        else:
            conversion_fail(conversion=conversion, message=message)
    except Conversion.DoesNotExist:
        logger.info("conversion %s was deleted while it ran", conversion.pk)


def conversion_complete(*, conversion: Conversion, result: ConversionResult) -> None:
    """Record a successful conversion: the one place a merged document becomes the result."""
    conversion.refresh_from_db(fields=["status"])
    conversion.check_transition(Conversion.Status.DONE)
    conversion.status = Conversion.Status.DONE
    conversion.latex = result.latex
    conversion.model = result.model or conversion.model
    conversion.input_tokens = result.input_tokens
    conversion.output_tokens = result.output_tokens
    conversion.gemini_calls += result.gemini_calls
    conversion.pages_done = conversion.page_count
    conversion.finished_at = timezone.now()
    conversion.save(
        update_fields=[
            "status",
            "latex",
            "model",
            "input_tokens",
            "output_tokens",
            "gemini_calls",
            "pages_done",
            "finished_at",
        ]
    )


def conversion_fail(*, conversion: Conversion, message: str) -> None:
    conversion.refresh_from_db(fields=["status"])
    conversion.check_transition(Conversion.Status.FAILED)
    conversion.status = Conversion.Status.FAILED
    conversion.error = message
    conversion.finished_at = timezone.now()
    conversion.save(update_fields=["status", "error", "finished_at"])


@transaction.atomic
def conversion_retry(*, conversion: Conversion) -> Conversion:
    """Queue a failed conversion again, with the PDF already stored (no new upload)."""
    conversion = Conversion.objects.select_for_update().get(pk=conversion.pk)
    conversion.check_transition(Conversion.Status.QUEUED)
    conversion.status = Conversion.Status.QUEUED
    conversion.error = ""
    conversion.pages_done = 0
    conversion.started_at = None
    conversion.finished_at = None
    conversion.save(update_fields=["status", "error", "pages_done", "started_at", "finished_at"])
    _enqueue_on_commit(conversion)
    return conversion


def conversion_reap_stuck(*, stuck_after_s: int, dry_run: bool = False) -> list[Conversion]:
    """Requeue conversions left running longer than `stuck_after_s` (their worker died).

    A conversion that has already been started LATEXOCR_MAX_ATTEMPTS times fails instead, so
    a PDF that kills its worker every time does not loop forever.
    """
    cutoff = timezone.now() - timedelta(seconds=stuck_after_s)
    reaped = []
    with transaction.atomic():
        stuck = (
            Conversion.objects.select_for_update(skip_locked=True)
            .filter(status=Conversion.Status.RUNNING, started_at__lt=cutoff)
            .defer("pdf", "latex")
        )
        for conversion in stuck:
            reaped.append(conversion)
            if dry_run:
                continue
            if conversion.attempts >= settings.LATEXOCR_MAX_ATTEMPTS:
                conversion_fail(
                    conversion=conversion,
                    message=_(
                        "La conversion a été interrompue %(count)d fois sans aboutir. "
                        "Relancez-la ; si cela se reproduit, signalez-le à l'équipe."
                    )
                    % {"count": conversion.attempts},
                )
                continue
            conversion.check_transition(Conversion.Status.QUEUED)
            conversion.status = Conversion.Status.QUEUED
            conversion.pages_done = 0
            conversion.save(update_fields=["status", "pages_done"])
            _enqueue_on_commit(conversion)
    return reaped


def conversion_delete(*, conversion: Conversion) -> None:
    """Remove the conversion with its PDF and its result."""
    conversion.delete()
