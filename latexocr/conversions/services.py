"""Writes on conversions: create, run, finish, retry, reap, delete.

Every status change goes through a guarded transition, and starting a conversion is an atomic
claim (an UPDATE conditioned on the status), so a task delivered twice runs once.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from latexocr.conversions.selectors import conversion_find_duplicate, conversion_quota_remaining
from latexocr.conversions.storage import pdf_read, pdf_sha256, pdf_store
from latexocr.engines import backends
from latexocr.engines.backends import ConversionFailed, ConversionResult
from latexocr.models import Conversion, InvalidTransition
from latexocr.review.services import versions_from_check
from latexocr.tex.checking import latex_check
from platform_site.core.failures import Failure, failure_kind
from platform_site.core.quotas import limit_reached

logger = logging.getLogger(__name__)


INTERNAL_ERROR = failure_kind(
    "latexocr.internal_error",
    gettext_lazy(
        "Erreur interne pendant la conversion. Relancez-la ; si cela se reproduit, "
        "signalez-le à l’équipe."
    ),
    retry=True,
    # Our fault: the student is not charged for it (runs stay capped by LATEXOCR_MAX_RUNS).
    charged=False,
)
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
        heartbeat_at=timezone.now(),
        finished_at=None,
        pages_done=0,
        error_code="",
        error_params={},
        error_detail="",
        page_issues={},
        attempts=F("attempts") + 1,
    )
    if not claimed:
        logger.info("conversion %s not queued any more: nothing to do", conversion_id)
        return
    conversion = Conversion.objects.defer("latex").get(pk=conversion_id)

    def record_progress(pages_done: int) -> None:
        Conversion.objects.filter(pk=conversion_id, status=Conversion.Status.RUNNING).update(
            pages_done=pages_done, heartbeat_at=timezone.now()
        )

    with _heartbeat(conversion_id):
        _conversion_convert(conversion, record_progress)


@contextmanager
def _heartbeat(conversion_id: str) -> Iterator[None]:
    """Write a sign of life every LATEXOCR_HEARTBEAT_S while the block runs.

    Progress alone is not enough: one range may spend minutes in Gemini's retries, and the
    compile check is silent. With a beat every 20 s the reaper can requeue a conversion
    silent for 90 s (its worker died) without ever taking a slow one that is alive.
    """
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.LATEXOCR_HEARTBEAT_S):
                try:
                    Conversion.objects.filter(
                        pk=conversion_id, status=Conversion.Status.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except Exception:
                    # A missed beat is no reason to stop the conversion; the next may pass.
                    logger.warning("heartbeat of conversion %s not written", conversion_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{conversion_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _conversion_convert(conversion: Conversion, record_progress: Callable[[int], None]) -> None:
    conversion_id = str(conversion.pk)
    try:
        # One copy of the PDF in the worker, assembled from its chunks.
        pdf = pdf_read(conversion_id=conversion.pk)
        result = backends.convert(
            backend=conversion.backend,
            pdf=pdf,
            page_count=conversion.page_count,
            model=conversion.model,
            on_progress=record_progress,
        )
    except ConversionFailed as failed:
        _record_outcome(conversion, failure=failed.failure)
        return
    except Exception as error:
        logger.exception("conversion %s crashed", conversion_id)
        _record_outcome(conversion, failure=INTERNAL_ERROR.failure(detail=repr(error)))
        return
    _record_outcome(conversion, result=result)


def _record_outcome(
    conversion: Conversion,
    *,
    result: ConversionResult | None = None,
    failure: Failure | None = None,
) -> None:
    try:
        if result is not None:
            conversion_complete(conversion=conversion, result=result)
        else:
            conversion_fail(conversion=conversion, failure=failure or INTERNAL_ERROR.failure())
    except Conversion.DoesNotExist:
        logger.info("conversion %s was deleted while it ran", conversion.pk)
    except InvalidTransition:
        # Requeued by the reaper (or failed) while this worker still ran: the newer run owns
        # the conversion now, and this late result must not overwrite it.
        logger.warning("conversion %s changed status while it ran; result dropped", conversion.pk)


def conversion_complete(*, conversion: Conversion, result: ConversionResult) -> None:
    """Record a successful conversion: the one place a merged document becomes the result.

    The document is compile-checked (and repaired once through Gemini if it came from Gemini)
    before the save; whatever the check finds, the conversion is done, and its versions 1 and
    2 record what the compiles gave.
    """
    # The check (two compiles and a Gemini call at most) is a sign of life of its own.
    Conversion.objects.filter(pk=conversion.pk, status=Conversion.Status.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    try:
        # The repair round goes to the model that made the document.
        check = latex_check(
            latex=result.latex,
            repair=backends.model_provider(conversion.backend) is not None,
            backend=conversion.backend,
        )
    except Exception:
        # The conversion itself succeeded (and was paid for): never lose it to the check.
        logger.exception("compile check of conversion %s crashed", conversion.pk)
        check = None
    conversion.refresh_from_db(fields=["status"])
    conversion.check_transition(Conversion.Status.DONE)
    conversion.status = Conversion.Status.DONE
    conversion.latex = result.latex
    conversion.page_issues = result.page_issues
    # Nothing usable read (handwriting through the local engine): not counted in the quota.
    conversion.charged = result.charged
    conversion.model = result.model or conversion.model
    conversion.input_tokens = _sum_tokens(
        result.input_tokens, check.input_tokens if check else None
    )
    conversion.output_tokens = _sum_tokens(
        result.output_tokens, check.output_tokens if check else None
    )
    conversion.gemini_calls += result.gemini_calls + (check.gemini_calls if check else 0)
    conversion.pages_done = conversion.page_count
    conversion.finished_at = timezone.now()
    conversion.save(
        update_fields=[
            "status",
            "latex",
            "page_issues",
            "charged",
            "model",
            "input_tokens",
            "output_tokens",
            "gemini_calls",
            "pages_done",
            "finished_at",
        ]
    )
    if check is not None and check.repair_error:
        # The student sees the document and its errors; why the round gave nothing is staff's.
        logger.warning("repair round of conversion %s: %s", conversion.pk, check.repair_error)
    versions_from_check(conversion=conversion, check=check)


def _sum_tokens(first: int | None, second: int | None) -> int | None:
    if first is None and second is None:
        return None
    return (first or 0) + (second or 0)


def conversion_fail(*, conversion: Conversion, failure: Failure) -> None:
    """Record the failure; one that cost nothing upstream leaves the daily quota untouched."""
    conversion.refresh_from_db(fields=["status"])
    conversion.check_transition(Conversion.Status.FAILED)
    conversion.status = Conversion.Status.FAILED
    conversion.failure_set(failure)
    conversion.finished_at = timezone.now()
    conversion.save(update_fields=["status", "finished_at", *Conversion.FAILURE_FIELDS])


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
    _enqueue_on_commit(conversion)
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
            _enqueue_on_commit(conversion)
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
