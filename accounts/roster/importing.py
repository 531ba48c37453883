"""A roster file into validated rows for the import, and those rows carried to the confirm step.

Pure functions, no database: the import service (accounts.services) compares the rows with
what is stored. A file with any error imports nothing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core import signing
from django.utils.translation import gettext as _

from accounts.roster.columns import REQUIRED_COLUMNS, Columns, column_letter
from accounts.roster.files import read_table
from accounts.roster.tables import (
    HEADER_SEARCH_ROWS,
    ROSTER_MAX_ROWS,
    RosterFileError,
    too_many_rows,
)
from accounts.roster.validation import (
    FILE_LINE,
    RosterError,
    RosterRow,
    header_errors,
    validate_row,
)
from accounts.roster.values import cell_text

# The confirm step carries the previewed rows, signed; an hour to click "Confirmer".
CONFIRM_MAX_AGE_S = 3600
CONFIRM_SALT = "accounts.roster.confirm"


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


def roster_parse(*, data: bytes, encoding: str | None = None) -> RosterParse:
    """Every valid row and every error of the file; a file with any error imports nothing.

    `encoding` forces a text file's encoding (a key of accounts.roster.files.ENCODINGS); None
    detects it.
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
            if all(column in Columns(cells).positions for column in REQUIRED_COLUMNS)
        ),
        0,
    )
    if len(table.rows) - header_index - 1 > ROSTER_MAX_ROWS:
        return RosterParse(errors=[RosterError(FILE_LINE, "—", too_many_rows().message)])
    header_line, header = table.rows[header_index]
    columns = Columns(header)
    result.columns = [
        (column_letter(index), columns.headers[index], column)
        for column, index in sorted(columns.positions.items(), key=lambda item: item[1])
    ]
    result.ignored = [columns.name(index) for index in columns.ignored]
    result.errors = header_errors(columns, header_line)
    if result.errors:
        return result

    first_line_of_number: dict[str, int] = {}
    first_line_of_email: dict[str, tuple[int, str]] = {}
    for line, cells in table.rows[header_index + 1 :]:
        extra = [index for index in range(columns.width, len(cells)) if cell_text(cells[index])]
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
        row, row_errors = validate_row(line, cells, columns)
        result.errors.extend(row_errors)
        position = columns.positions["student_number"]
        number = cell_text(cells[position]) if position < len(cells) else ""
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
