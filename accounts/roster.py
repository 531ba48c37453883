"""Parsing of a roster CSV into validated rows, with errors naming the line and the field.

Pure functions, no database: the import service compares the rows with what is stored.
Accepted: UTF-8 with or without BOM, `;` or `,` separated, a header row with the columns
student_number, last_name, first_name, birth_date (required) and email (optional); dates
as YYYY-MM-DD or DD/MM/YYYY. Line numbers are the file's (the header is line 1).
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

REQUIRED_COLUMNS = ("student_number", "last_name", "first_name", "birth_date")
OPTIONAL_COLUMNS = ("email",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
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

    def __str__(self) -> str:
        if self.line == FILE_LINE:
            return self.message
        return _("Ligne %(line)s, champ « %(field)s » : %(message)s") % {
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


def _decode(data: bytes) -> tuple[str | None, RosterError | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, RosterError(
            line,
            "—",
            _(
                "le fichier n'est pas encodé en UTF-8 (octet invalide). "
                "Enregistrez-le en « CSV UTF-8 » et recommencez."
            ),
        )


def _parse_date(value: str) -> datetime.date | None:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date()
        except ValueError:
            continue
    return None


def _looks_like_a_date(value: str) -> bool:
    parts = value.replace("/", "-").split("-")
    return len(parts) == 3 and all(part.isdigit() for part in parts)


def _validate_row(line: int, values: dict[str, str]) -> tuple[RosterRow | None, list[RosterError]]:
    errors: list[RosterError] = []
    for column in REQUIRED_COLUMNS:
        if not values[column]:
            errors.append(RosterError(line, column, _("champ obligatoire vide.")))

    student_number = values["student_number"]
    if student_number:
        if len(student_number) > NAME_MAX_LENGTH:
            errors.append(
                RosterError(
                    line,
                    "student_number",
                    _("%(count)s caractères au plus.") % {"count": NAME_MAX_LENGTH},
                )
            )
        elif student_number.casefold() in RESERVED_USERNAMES:
            errors.append(
                RosterError(
                    line,
                    "student_number",
                    _("« %(number)s » est un nom de compte réservé, pas un numéro d'étudiant.")
                    % {"number": student_number},
                )
            )
        else:
            try:
                UnicodeUsernameValidator()(student_number)
            except ValidationError:
                errors.append(
                    RosterError(
                        line,
                        "student_number",
                        _("seuls les lettres, chiffres et les caractères @ . + - _ sont permis."),
                    )
                )

    for column in ("last_name", "first_name"):
        if len(values[column]) > NAME_MAX_LENGTH:
            errors.append(
                RosterError(
                    line, column, _("%(count)s caractères au plus.") % {"count": NAME_MAX_LENGTH}
                )
            )

    birth_date = None
    if values["birth_date"]:
        birth_date = _parse_date(values["birth_date"])
        if birth_date is None:
            message = (
                _("date impossible « %(value)s ».")
                if _looks_like_a_date(values["birth_date"])
                else _("« %(value)s » n'est pas une date AAAA-MM-JJ ou JJ/MM/AAAA.")
            )
            errors.append(
                RosterError(line, "birth_date", message % {"value": values["birth_date"]})
            )
        elif birth_date >= datetime.date.today():
            errors.append(
                RosterError(line, "birth_date", _("la date de naissance est dans le futur."))
            )

    email = values["email"]
    if email:
        try:
            if len(email) > EMAIL_MAX_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            errors.append(
                RosterError(
                    line,
                    "email",
                    _("« %(value)s » n'est pas une adresse e-mail valide.") % {"value": email},
                )
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


def roster_parse(*, data: bytes) -> tuple[list[RosterRow], list[RosterError]]:
    """Every valid row and every error of the file; a file with any error imports nothing."""
    text, decode_error = _decode(data)
    if decode_error is not None or text is None:
        return [], [decode_error] if decode_error else []
    if not text.strip():
        return [], [RosterError(FILE_LINE, "—", _("Le fichier est vide."))]

    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        return [], [
            RosterError(
                1,
                ", ".join(missing),
                _(
                    "colonne(s) manquante(s) dans l'en-tête. Colonnes attendues : %(columns)s "
                    "(séparées par « ; » ou « , »)."
                )
                % {"columns": ", ".join(COLUMNS)},
            )
        ]
    positions = {column: header.index(column) for column in COLUMNS if column in header}

    rows: list[RosterRow] = []
    errors: list[RosterError] = []
    first_line_of: dict[str, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) > len(header):
            errors.append(
                RosterError(
                    line,
                    "—",
                    _("%(found)s valeurs pour %(expected)s colonnes (séparateur dans un nom ?).")
                    % {"found": len(fields), "expected": len(header)},
                )
            )
            continue
        values = {
            column: (fields[position].strip() if position < len(fields) else "")
            for column, position in positions.items()
        }
        values.setdefault("email", "")
        row, row_errors = _validate_row(line, values)
        errors.extend(row_errors)
        number = values["student_number"]
        if number:
            if number in first_line_of:
                errors.append(
                    RosterError(
                        line,
                        "student_number",
                        _("le numéro %(number)s apparaît déjà ligne %(first)s.")
                        % {"number": number, "first": first_line_of[number]},
                    )
                )
                continue
            first_line_of[number] = line
        if row is not None:
            rows.append(row)

    if not rows and not errors:
        errors.append(
            RosterError(FILE_LINE, "—", _("Le fichier ne contient aucune ligne d'étudiant."))
        )
    return rows, errors
