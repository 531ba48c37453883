"""Requeue conversions whose worker died: django-tasks-db leaves their task running forever.

Run it periodically (a Kubernetes CronJob every few minutes). A conversion counts as stuck
once it has been running longer than LATEXOCR_STUCK_AFTER_S, which must exceed the longest
real conversion (attempts x LATEXOCR_CALL_TIMEOUT_S per range, ranges in waves).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from latexocr.services import conversion_reap_stuck


class Command(BaseCommand):
    help = "Requeue conversions stuck in 'running' longer than LATEXOCR_STUCK_AFTER_S."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--stuck-after-s",
            type=int,
            default=None,
            help="Override LATEXOCR_STUCK_AFTER_S for this run.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="List the stuck conversions, change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stuck_after_s = options["stuck_after_s"] or settings.LATEXOCR_STUCK_AFTER_S
        reaped = conversion_reap_stuck(stuck_after_s=stuck_after_s, dry_run=options["dry_run"])
        for conversion in reaped:
            started = conversion.started_at.isoformat() if conversion.started_at else "?"
            self.stdout.write(f"{conversion.pk} started {started} attempts {conversion.attempts}")
        verb = "would be requeued or failed" if options["dry_run"] else "requeued or failed"
        self.stdout.write(self.style.SUCCESS(f"{len(reaped)} stuck conversion(s) {verb}."))
