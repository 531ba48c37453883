"""Delete what has outlived its retention period (docs/data.md); run daily by a CronJob."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from platform_site.privacy.retention import expired_counts, expired_purge


class Command(BaseCommand):
    help = (
        "Delete questions, conversions (PDF, chunks, versions), inactive accounts, sign-in "
        "records and expired sessions older than their RETENTION_* setting, and roster birth "
        "dates no longer needed; prints the count per kind. --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would go; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["dry_run"]:
            counts = expired_counts(now=now)
            verb = "would be purged"
        else:
            counts = expired_purge(now=now)
            verb = "purged"
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {count} {verb}")
        self.stdout.write(self.style.SUCCESS(f"{sum(counts.values())} {verb} in all"))
