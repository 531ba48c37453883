"""A roster file (CSV/TSV, .xlsx, .ods) into validated rows, with errors naming line and column.

Pure functions, no database: the import service compares the rows with what is stored.
accounts.roster_files reads the file into cells; this module finds the columns (French or
English headers, whatever their case, accents, spaces, punctuation or "N°"), turns the cells
into values as the spreadsheet meant them (an integer cell 21900401 is the text "21900401", a
date cell is a date) and checks every row. Line numbers and column letters are the
spreadsheet's own (the header is line 1 when it is the first row).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roster_files import (
    HEADER_SEARCH_ROWS,
    ROSTER_MAX_ROWS,
    Cell,
    RosterFileError,
    read_table,
    too_many_rows,
)

REQUIRED_COLUMNS = ("student_number", "last_name", "first_name", "birth_date")
OPTIONAL_COLUMNS = ("email",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
COLUMN_LABELS: dict[str, Promise] = {
    "student_number": gettext_lazy("N° étudiant"),
    "last_name": gettext_lazy("Nom"),
    "first_name": gettext_lazy("Prénom"),
    "birth_date": gettext_lazy("Date de naissance"),
    "email": gettext_lazy("E-mail"),
}
# Headers as normalize_header() leaves them: lower case, no accents, spaces or punctuation,
# "N°" read as "numero".
HEADER_ALIASES: dict[str, frozenset[str]] = {
    "student_number": frozenset(
        {
            "studentnumber",
            "studentid",
            "numeroetudiant",
            "numerodetudiant",
            "numerodeletudiant",
            "numetudiant",
            "noetudiant",
            "numero",
            "identifiant",
            "matricule",
        }
    ),
    "last_name": frozenset(
        {"lastname", "surname", "familyname", "nom", "nomdefamille", "nomfamille", "nomdusage"}
    ),
    "first_name": frozenset({"firstname", "givenname", "prenom", "prenoms"}),
    "birth_date": frozenset(
        {
            "birthdate",
            "dateofbirth",
            "datedenaissance",
            "datenaissance",
            "naissance",
            "neele",
            "nele",
            "neel",
        }
    ),
    "email": frozenset(
        {
            "email",
            "emailaddress",
            "mail",
            "courriel",
            "mel",
            "adresseelectronique",
            "adressemail",
            "adresseemail",
            "adressecourriel",
        }
    ),
}
ACCEPTED_DATE_FORMATS = gettext_lazy("JJ/MM/AAAA, J/M/AAAA, JJ.MM.AAAA, JJ-MM-AAAA, AAAA-MM-JJ")
NAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
# The whole file is one form: the first line names the file itself, not a row.
FILE_LINE = 0
# The confirm step carries the previewed rows, signed; an hour to click "Confirmer".
CONFIRM_MAX_AGE_S = 3600
CONFIRM_SALT = "accounts.roster.confirm"
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

DAY_FIRST = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})")
YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
TWO_DIGIT_YEAR = re.compile(r"\d{1,2}([/.\-])\d{1,2}\1\d{2}")
# Some exports add a midnight time to a date: "14/03/2005 00:00:00".
MIDNIGHT = re.compile(r"[ T]00:00(:00)?$")
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


@dataclass
class RosterParse:
    """What was read: the valid rows, every error, and how the file was understood."""

    rows: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    description: str = ""
    # (column letter, header in the file, field) of the recognised columns, in file order.
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    # "C « Code étape »" for each column of the file that is not imported.
    ignored: list[str] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the name a spreadsheet shows above the column."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_name(index: int, header: str) -> str:
    """A column as a teacher finds it: its letter and its header, "D « Date de naissance »"."""
    return _("%(letter)s « %(header)s »") % {"letter": column_letter(index), "header": header}


def normalize_header(name: str) -> str:
    """ "N° Étudiant" → "numeroetudiant": no case, accents, spaces or punctuation."""
    text = re.sub(r"\b[nN]\s*[°º˚]", " numero ", name)
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]", "", text)


def _field_of(header: str) -> str | None:
    key = normalize_header(header)
    for column, aliases in HEADER_ALIASES.items():
        if key in aliases:
            return column
    return None


def _text(cell: Cell) -> str:
    """A cell as the text a teacher sees: 21900401 (never 21900401.0), dates as JJ/MM/AAAA."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return _("VRAI") if cell else _("FAUX")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime.datetime):
        return f"{cell:%d/%m/%Y}" if cell.time() == datetime.time() else f"{cell:%d/%m/%Y %H:%M}"
    if isinstance(cell, datetime.date):
        return f"{cell:%d/%m/%Y}"
    return unicodedata.normalize("NFC", str(cell)).strip()


def _date_error(value: str) -> str:
    if TWO_DIGIT_YEAR.fullmatch(value):
        return _(
            "« %(value)s » : l’année doit avoir quatre chiffres. Formats acceptés : %(formats)s."
        ) % {"value": value, "formats": ACCEPTED_DATE_FORMATS}
    if DAY_FIRST.fullmatch(value) or YEAR_FIRST.fullmatch(value):
        return _("date impossible « %(value)s ». Formats acceptés : %(formats)s.") % {
            "value": value,
            "formats": ACCEPTED_DATE_FORMATS,
        }
    return _("« %(value)s » n’est pas une date. Formats acceptés : %(formats)s.") % {
        "value": value,
        "formats": ACCEPTED_DATE_FORMATS,
    }


def parse_date(cell: Cell) -> tuple[datetime.date | None, str]:
    """(the date, "") or (None, the message): a date cell, or text in an accepted format."""
    if isinstance(cell, datetime.datetime):
        return cell.date(), ""
    if isinstance(cell, datetime.date):
        return cell, ""
    value = _text(cell)
    text = MIDNIGHT.sub("", value)
    day_first = DAY_FIRST.fullmatch(text)
    year_first = YEAR_FIRST.fullmatch(text)
    try:
        if day_first:
            day, _separator, month, year = day_first.groups()
            return datetime.date(int(year), int(month), int(day)), ""
        if year_first:
            year, month, day = year_first.groups()
            return datetime.date(int(year), int(month), int(day)), ""
    except ValueError:
        pass
    return None, _date_error(value)


class _Columns:
    """Where each field sits in the file, and how to name a column in a message."""

    def __init__(self, header: list[Cell]) -> None:
        self.headers = [_text(cell) for cell in header]
        self.positions: dict[str, int] = {}
        self.duplicates: list[tuple[str, int]] = []
        self.ignored: list[int] = []
        # The columns that have a header; a value further right has none.
        self.width = max((index + 1 for index, name in enumerate(self.headers) if name), default=0)
        for index, name in enumerate(self.headers):
            column = _field_of(name) if name else None
            if column is None:
                if name:
                    self.ignored.append(index)
            elif column in self.positions:
                self.duplicates.append((column, index))
            else:
                self.positions[column] = index

    def name(self, index: int) -> str:
        return column_name(index, self.headers[index])

    def of(self, column: str) -> str:
        position = self.positions.get(column)
        return self.name(position) if position is not None else str(COLUMN_LABELS[column])


def _header_errors(columns: _Columns, line: int) -> list[RosterError]:
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


def _validate_row(
    line: int, cells: list[Cell], columns: _Columns
) -> tuple[RosterRow | None, list[RosterError]]:
    def cell(column: str) -> Cell:
        position = columns.positions.get(column)
        return cells[position] if position is not None and position < len(cells) else None

    values = {column: _text(cell(column)) for column in COLUMNS}
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


def roster_parse(*, data: bytes, encoding: str | None = None) -> RosterParse:
    """Every valid row and every error of the file; a file with any error imports nothing.

    `encoding` forces a text file's encoding (a key of roster_files.ENCODINGS); None detects it.
    """
    try:
        table = read_table(data=data, encoding=encoding)
    except RosterFileError as failure:
        return RosterParse(errors=[RosterError(failure.line, "—", failure.message)])
    result = RosterParse(description=table.description)
    if not table.rows:
        result.errors.append(RosterError(FILE_LINE, "—", _("La feuille est vide.")))
        return result

    # Exports often start with a title ("Liste des inscrits L1 2026"): the header is the first
    # of the opening rows that names every required column (else the first row, to report it).
    header_index = next(
        (
            index
            for index, (_line, cells) in enumerate(table.rows[:HEADER_SEARCH_ROWS])
            if all(column in _Columns(cells).positions for column in REQUIRED_COLUMNS)
        ),
        0,
    )
    if len(table.rows) - header_index - 1 > ROSTER_MAX_ROWS:
        return RosterParse(errors=[RosterError(FILE_LINE, "—", too_many_rows().message)])
    header_line, header = table.rows[header_index]
    columns = _Columns(header)
    result.columns = [
        (column_letter(index), columns.headers[index], column)
        for column, index in sorted(columns.positions.items(), key=lambda item: item[1])
    ]
    result.ignored = [columns.name(index) for index in columns.ignored]
    result.errors = _header_errors(columns, header_line)
    if result.errors:
        return result

    first_line_of_number: dict[str, int] = {}
    first_line_of_email: dict[str, tuple[int, str]] = {}
    for line, cells in table.rows[header_index + 1 :]:
        extra = [index for index in range(columns.width, len(cells)) if _text(cells[index])]
        if extra:
            # Probably a separator inside a name: every value after it sits one column off.
            result.errors.append(
                RosterError(
                    line,
                    "—",
                    _(
                        "une valeur hors des colonnes nommées (colonne %(column)s) : un "
                        "séparateur dans un nom, ou une case à vider ?"
                    )
                    % {"column": column_letter(extra[0])},
                )
            )
            continue
        row, row_errors = _validate_row(line, cells, columns)
        result.errors.extend(row_errors)
        position = columns.positions["student_number"]
        number = _text(cells[position]) if position < len(cells) else ""
        if number:
            if number in first_line_of_number:
                result.errors.append(
                    RosterError(
                        line,
                        "student_number",
                        _("le numéro %(number)s apparaît déjà ligne %(first)s.")
                        % {"number": number, "first": first_line_of_number[number]},
                        columns.of("student_number"),
                    )
                )
                continue
            first_line_of_number[number] = line
        if row is not None and row.email:
            key = row.email.casefold()
            if key in first_line_of_email and first_line_of_email[key][1] != number:
                result.errors.append(
                    RosterError(
                        line,
                        "email",
                        _(
                            "l’adresse %(email)s est déjà celle d’un autre étudiant, ligne "
                            "%(first)s."
                        )
                        % {"email": row.email, "first": first_line_of_email[key][0]},
                        columns.of("email"),
                    )
                )
                continue
            first_line_of_email[key] = (line, number)
        if row is not None:
            result.rows.append(row)

    if not result.rows and not result.errors:
        result.errors.append(
            RosterError(FILE_LINE, "—", _("Le fichier ne contient aucune ligne d’étudiant."))
        )
    return result


def roster_sign(*, rows: Sequence[RosterRow]) -> str:
    """The previewed rows for the confirm step: compressed and signed, so no server state is
    kept between the two steps and what is imported is exactly what was previewed."""
    return signing.dumps(
        [
            [
                row.line,
                row.student_number,
                row.last_name,
                row.first_name,
                row.birth_date.isoformat(),
                row.email,
            ]
            for row in rows
        ],
        salt=CONFIRM_SALT,
        compress=True,
    )


def roster_unsign(*, token: str) -> list[RosterRow]:
    """The rows roster_sign() signed; raises signing.BadSignature (or SignatureExpired)."""
    payload = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE_S)
    return [
        RosterRow(
            line=int(line),
            student_number=str(number),
            last_name=str(last_name),
            first_name=str(first_name),
            birth_date=datetime.date.fromisoformat(birth_date),
            email=str(email),
        )
        for line, number, last_name, first_name, birth_date, email in payload
    ]
