"""Reads of the accounts app."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterable, Iterator

from django.db import connections, router
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Student, User

# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ExportValue = str | datetime.date | datetime.datetime | None


def user_by_id(user_id: int) -> User | None:
    """The user behind a session, read on every request of a logged-in user.

    A raw query instead of `User.objects.get(pk=…)`: building that queryset took longer
    than PostgreSQL took to answer it (0.42 against 0.24 ms here, docs/performance.md).
    """
    quote = connections[router.db_for_read(User)].ops.quote_name
    table, primary_key = quote(User._meta.db_table), quote(str(User._meta.pk.column))
    found = list(User.objects.raw(f"SELECT * FROM {table} WHERE {primary_key} = %s", [user_id]))  # noqa: S608
    return found[0] if found else None


def _spreadsheet_safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def student_roster_rows(
    *, students: QuerySet[Student] | Iterable[Student]
) -> Iterator[list[ExportValue]]:
    """The student list with who has logged in, for a teacher chasing the missing ones.

    The first five columns are the import's own (French headers, which the import reads):
    an export re-imports unchanged, the two login columns being ignored there. Dates stay
    dates (the CSV writes them JJ/MM/AAAA, the XLSX as date cells); the last login is in the
    site's time zone.
    """
    yield [
        _("N° étudiant"),
        _("Nom"),
        _("Prénom"),
        _("Date de naissance"),
        _("E-mail"),
        _("Première connexion faite"),
        _("Dernière connexion"),
    ]
    for student in students:
        last_login = student.user.last_login
        yield [
            _spreadsheet_safe(student.student_number),
            _spreadsheet_safe(student.last_name),
            _spreadsheet_safe(student.first_name),
            student.birth_date,
            _spreadsheet_safe(student.email),
            _("non") if student.must_change_password else _("oui"),
            timezone.localtime(last_login).replace(tzinfo=None) if last_login else None,
        ]


def _csv_text(value: ExportValue) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    return value


def student_roster_csv(*, students: QuerySet[Student] | Iterable[Student]) -> str:
    """The list as CSV: a BOM and ";" so that a French spreadsheet program opens it in columns."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    for row in student_roster_rows(students=students):
        writer.writerow([_csv_text(value) for value in row])
    return out.getvalue()


def student_roster_xlsx(*, students: QuerySet[Student] | Iterable[Student]) -> bytes:
    """The list as an Excel workbook: dates as date cells, every text as a text cell."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Étudiants"))
    for row in student_roster_rows(students=students):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime.datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(value, str):
                # openpyxl would store "=…" as a formula: keep every text a text.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
