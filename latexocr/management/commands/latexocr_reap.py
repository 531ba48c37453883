"""Requeue conversions whose worker died: django-tasks-db leaves their task running forever.

Run it every minute (the Kubernetes CronJob). A running conversion counts as stuck once its
worker has written no heartbeat for LATEXOCR_STUCK_AFTER_S (90 s; a live worker beats every
LATEXOCR_HEARTBEAT_S, 20 s, however slow the conversion): a dead worker's conversion is
requeued within 90 + 60 s of the death. One that has run LATEXOCR_MAX_RUNS times fails
instead. A version left compiling by a dead worker (LATEXOCR_COMPILE_TIMEOUT_S past its own
limit plus LATEXOCR_STUCK_AFTER_S) ends as not checked, and a repair request left running
(past every call to the model, its retries and a compile) ends as failed, so its page stops
waiting and a new repair may be asked for.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from latexocr.conversions.services import conversion_reap_stuck
from latexocr.review.services import repair_reap_stuck, version_reap_stuck


class Command(BaseCommand):
    help = (
        "Requeue running conversions without a sign of life for LATEXOCR_STUCK_AFTER_S "
        "(fail those out of runs)."
    )

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
        if not options["dry_run"]:
            versions = version_reap_stuck(
                stuck_after_s=settings.LATEXOCR_COMPILE_TIMEOUT_S + stuck_after_s
            )
            self.stdout.write(self.style.SUCCESS(f"{versions} interrupted compile(s) ended."))
            # A round: every call to the model with its retries, then one compile.
            round_s = settings.LATEXOCR_MAX_ATTEMPTS * (
                settings.LATEXOCR_CALL_TIMEOUT_S + settings.GEMINI_RETRY_MAX_S
            )
            repairs = repair_reap_stuck(
                stuck_after_s=int(round_s) + settings.LATEXOCR_COMPILE_TIMEOUT_S + stuck_after_s
            )
            self.stdout.write(self.style.SUCCESS(f"{repairs} interrupted repair(s) ended."))
