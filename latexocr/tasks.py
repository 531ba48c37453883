"""Background work for conversions, through Django's tasks API.

The backend (immediate in the quickstart, django-tasks-db in production) comes from
DJANGO_TASKS_BACKEND; the task only carries the conversion's id, and the service does the rest.
"""

from __future__ import annotations

from django.tasks import task

from latexocr.services import conversion_run


@task
def conversion_run_task(conversion_id: str) -> None:
    conversion_run(conversion_id=conversion_id)
