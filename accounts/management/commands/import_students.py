"""`manage.py import_students FILE [--dry-run] [--encoding ENC]`: the admin's roster import,
from a shell, accepting exactly the same files (CSV/TSV, .xlsx, .ods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.roster.files import ENCODINGS
from accounts.roster.tables import ROSTER_MAX_BYTES
from accounts.roster.validation import RosterError
from accounts.services import (
    StudentImportInvalid,
    student_import_apply_rows,
    student_import_preview,
)


class Command(BaseCommand):
    help = (
        "Import a student roster: CSV or TSV (UTF-8 with or without BOM, Windows-1252 or "
        "Latin-1, detected; ';', ',' or tab, sniffed), Excel .xlsx or LibreOffice .ods (first "
        "sheet). Headers in French or English (N° étudiant/student_number, Nom/last_name, "
        "Prénom/first_name, Date de naissance/birth_date, E-mail/email); other columns are "
        "ignored. All or nothing; re-importing the same file changes nothing; passwords "
        "students already chose are never reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Path of the roster file.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be created and updated, write nothing.",
        )
        parser.add_argument(
            "--encoding",
            choices=sorted(ENCODINGS),
            default=None,
            help="Encoding of a CSV/TSV file (default: detected).",
        )

    def handle(
        self, *args: Any, file: Path, dry_run: bool, encoding: str | None, **options: Any
    ) -> None:
        try:
            if file.stat().st_size > ROSTER_MAX_BYTES:
                raise CommandError(
                    f"{file} is larger than {ROSTER_MAX_BYTES // (1024 * 1024)} MB: refused."
                )
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error

        preview = student_import_preview(data=data, encoding=encoding)
        if preview.description:
            self.stdout.write(f"Read: {preview.description}")
        if preview.ignored:
            self.stdout.write(f"Ignored columns: {', '.join(preview.ignored)}")
        if not preview.is_valid:
            self._fail(preview.errors)
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Dry run, nothing written: would create {len(preview.to_create)}, "
                    f"update {len(preview.to_update)}, leave {len(preview.unchanged)} unchanged."
                )
            )
            return

        # One transaction, re-checked against the database: any error leaves it as it was.
        try:
            result = student_import_apply_rows(rows=preview.rows)
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
