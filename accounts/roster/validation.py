"""Checking a roster's header and each of its rows, with errors naming line and column.

Line numbers and column letters are the spreadsheet's own (the header is line 1 when it is
the first row).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from accounts.roster.columns import COLUMN_LABELS, COLUMNS, REQUIRED_COLUMNS, Columns
from accounts.roster.tables import Cell
from accounts.roster.values import cell_text, parse_date

NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
# The whole file is one form: the first line names the file itself, not a row.
FILE_LINE = 0
# Names every attacker tries first [ASVS 6.3.2]: a roster row must never create such an
# account, whose first-login password (a birth date) would be guessable too.
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrateur",
        "administrator",
        "guest",
        "invite",
        "postgres",
        "root",
        "staff",
        "superuser",
        "support",
        "test",
        "user",
        "utilisateur",
    }
)

# Excel writes long numbers in a CSV as "2,19E+07": the digits are lost.
SCIENTIFIC = re.compile(r"\d+([.,]\d+)?[eE]\+?\d+")


@dataclass(frozen=True)
class RosterRow:
    line: int
    student_number: str
    last_name: str
    first_name: str
    birth_date: datetime.date
    email: str


@dataclass(frozen=True)
class RosterError:
    line: int
    field: str
    message: str
    # The spreadsheet's column, e.g. "D « Date de naissance »"; empty for a whole-row error.
    column: str = ""

    def __str__(self) -> str:
        if self.line == FILE_LINE:
            return self.message
        if not self.column:
            return _("Ligne %(line)s : %(message)s") % {
                "line": self.line,
                "message": self.message,
            }
        return _("Ligne %(line)s, colonne %(column)s : %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


def header_errors(columns: Columns, line: int) -> list[RosterError]:
    errors = [
        RosterError(
            line,
            column,
            _("deux colonnes pour « %(label)s » (%(first)s et %(second)s) : gardez-en une.")
            % {
                "label": COLUMN_LABELS[column],
                "first": columns.of(column),
                "second": columns.name(index),
            },
            columns.name(index),
        )
        for column, index in columns.duplicates
    ]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns.positions]
    if missing:
        errors.append(
            RosterError(
                line,
                ", ".join(missing),
                _(
                    "colonne(s) introuvable(s) : %(missing)s. La première ligne doit nommer les "
                    "colonnes, par exemple : N° étudiant, Nom, Prénom, Date de naissance, E-mail "
                    "(ou student_number, last_name, first_name, birth_date, email). Colonnes "
                    "lues : %(found)s."
                )
                % {
                    "missing": ", ".join(str(COLUMN_LABELS[column]) for column in missing),
                    "found": ", ".join(
                        _("« %(char)s »") % {"char": name} for name in columns.headers if name
                    )
                    or _("aucune"),
                },
            )
        )
    return errors


def _validate_student_number(value: str) -> str:
    if len(value) > NAME_MAX_LENGTH:
        return _("%(count)s caractères au plus.") % {"count": NAME_MAX_LENGTH}
    if value.casefold() in RESERVED_USERNAMES:
        return _("« %(number)s » est un nom de compte réservé, pas un numéro d’étudiant.") % {
            "number": value
        }
    if SCIENTIFIC.fullmatch(value):
        return _(
            "« %(number)s » : le tableur a abrégé ce numéro en notation scientifique. Mettez la "
            "colonne au format Texte, ou importez le classeur .xlsx lui-même."
        ) % {"number": value}
    try:
        UnicodeUsernameValidator()(value)
    except ValidationError:
        return _("seuls les lettres, chiffres et les caractères @ . + - _ sont permis.")
    return ""


def validate_row(
    line: int, cells: list[Cell], columns: Columns
) -> tuple[RosterRow | None, list[RosterError]]:
    def cell(column: str) -> Cell:
        position = columns.positions.get(column)
        return cells[position] if position is not None and position < len(cells) else None

    values = {column: cell_text(cell(column)) for column in COLUMNS}
    errors: list[RosterError] = []

    def error(column: str, message: str) -> None:
        errors.append(RosterError(line, column, message, columns.of(column)))

    for column in REQUIRED_COLUMNS:
        if not values[column]:
            error(column, _("case vide : elle est obligatoire."))

    student_number = values["student_number"]
    if student_number and (message := _validate_student_number(student_number)):
        error("student_number", message)

    for column in ("last_name", "first_name"):
        if len(values[column]) > NAME_MAX_LENGTH:
            error(column, _("%(count)s caractères au plus.") % {"count": NAME_MAX_LENGTH})

    birth_date = None
    if values["birth_date"]:
        birth_date, message = parse_date(cell("birth_date"))
        if birth_date is None:
            error("birth_date", message)
        elif birth_date >= datetime.date.today():
            error("birth_date", _("la date de naissance est dans le futur."))
        elif birth_date.year < 1900:
            error("birth_date", _("date de naissance avant 1900 : vérifiez l’année."))

    email = values["email"]
    if email:
        try:
            if len(email) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            error(
                "email", _("« %(value)s » n’est pas une adresse e-mail valide.") % {"value": email}
            )

    if errors or birth_date is None:
        return None, errors
    return (
        RosterRow(
            line=line,
            student_number=student_number,
            last_name=values["last_name"],
            first_name=values["first_name"],
            birth_date=birth_date,
            email=email,
        ),
        [],
    )
