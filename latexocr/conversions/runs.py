"""Writes the worker makes while it runs a conversion: claim, convert, record the outcome.

Called by the task (latexocr.tasks); enqueues nothing, so the task module can import it and
the services can enqueue tasks without a circle. Starting is an atomic claim (an UPDATE
conditioned on the status), so a task delivered twice runs once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from latexocr.conversions.storage import pdf_read
from latexocr.engines import backends
from latexocr.engines.backends import ConversionFailed, ConversionResult
from latexocr.models import Conversion, InvalidTransition
from latexocr.review.runs import versions_from_check
from latexocr.tex.checking import latex_check
from platform_site.core.failures import Failure, failure_kind

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
