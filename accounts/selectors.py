"""Reads of the accounts app."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from accounts.models import Student

# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def student_roster_rows(*, students: QuerySet[Student] | Iterable[Student]) -> Iterator[list[str]]:
    """The roster as CSV rows in the import's own columns, so an export re-imports unchanged."""
    yield ["student_number", "last_name", "first_name", "birth_date", "email"]
    for student in students:
        yield [
            _spreadsheet_safe(student.student_number),
            _spreadsheet_safe(student.last_name),
            _spreadsheet_safe(student.first_name),
            student.birth_date.isoformat(),
            _spreadsheet_safe(student.email),
        ]
