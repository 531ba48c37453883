"""Finding the roster's columns in a header row, and naming a column as a spreadsheet does.

Headers are French or English, whatever their case, accents, spaces, punctuation or "N°";
column letters are the spreadsheet's own (A, B, …, AA).
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roster.tables import Cell
from accounts.roster.values import cell_text

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


class Columns:
    """Where each field sits in the file, and how to name a column in a message."""

    def __init__(self, header: list[Cell]) -> None:
        self.headers = [cell_text(cell) for cell in header]
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
