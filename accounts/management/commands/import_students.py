"""`manage.py import_students FILE [--dry-run]`: the admin's roster import, from a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.roster import RosterError
from accounts.services import StudentImportInvalid, student_import_apply, student_import_preview


class Command(BaseCommand):
    help = (
        "Import a student roster CSV (UTF-8, ';' or ',' separated, header "
        "student_number,last_name,first_name,birth_date,email; dates YYYY-MM-DD or DD/MM/YYYY). "
        "All or nothing; re-importing the same file changes nothing; passwords students "
        "already chose are never reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path of the CSV file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be created and updated, write nothing.",
        )

    def handle(self, *args: Any, file: Path, dry_run: bool, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error

        if dry_run:
            preview = student_import_preview(data=data)
            if not preview.is_valid:
                self._fail(preview.errors)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run, nothing written: would create {len(preview.to_create)}, "
                    f"update {len(preview.to_update)}, leave {len(preview.unchanged)} unchanged."
                )
            )
            return

        # student_import_apply runs in one transaction: any error leaves the database as it was.
        try:
            result = student_import_apply(data=data)
        except StudentImportInvalid as invalid:
            self._fail(invalid.errors)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged."
            )
        )

    def _fail(self, errors: list[RosterError]) -> None:
        for error in errors:
            self.stderr.write(self.style.ERROR(str(error)))
        raise CommandError(f"{len(errors)} error(s): nothing imported.")
