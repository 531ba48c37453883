"""Background work of the privacy pages, through Django's tasks API (as latexocr.tasks).

A task carries only the export's id; platform_site.privacy.export_runs does the rest. The
task path (`platform_site.privacy.tasks.account_export_build_task`) may be stored in queued
rows: keep it. Enqueued by platform_site.privacy.exports once the request commits.
"""

from __future__ import annotations

from django.tasks import task

from platform_site.privacy.export_runs import account_export_build


@task
def account_export_build_task(export_id: str) -> None:
    account_export_build(export_id=export_id)
