"""Background work for conversions, through Django's tasks API.

The backend (immediate in the quickstart, django-tasks-db in production) comes from
DJANGO_TASKS_BACKEND; a task only carries an id, and the worker's service does the rest.
Task paths (`latexocr.tasks.conversion_run_task`, ...) may be stored in queued rows: keep them.
Enqueued through latexocr.enqueue.
"""

from __future__ import annotations

from django.tasks import task

from latexocr.conversions.runs import conversion_run
from latexocr.review.runs import repair_run, version_compile


@task
def conversion_run_task(conversion_id: str) -> None:
    conversion_run(conversion_id=conversion_id)


@task
def version_compile_task(version_id: int) -> None:
    version_compile(version_id=version_id)


@task
def repair_run_task(request_id: int) -> None:
    repair_run(request_id=request_id)
