"""The one place the services hand work to the task queue, once their transaction commits.

The services import this module and it imports the tasks; the tasks import only the
worker's modules (latexocr.conversions.runs, latexocr.review.runs), which never enqueue. So
the import graph has no circle and needs no import hidden inside a function.
"""

from __future__ import annotations

from django.db import transaction

from latexocr.tasks import conversion_run_task, repair_run_task, version_compile_task


def conversion_run_enqueue(*, conversion_id: str) -> None:
    transaction.on_commit(lambda: conversion_run_task.enqueue(conversion_id))


def version_compile_enqueue(*, version_id: int) -> None:
    transaction.on_commit(lambda: version_compile_task.enqueue(version_id))


def repair_run_enqueue(*, request_id: int) -> None:
    transaction.on_commit(lambda: repair_run_task.enqueue(request_id))
