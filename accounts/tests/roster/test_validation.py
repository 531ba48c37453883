"""Errors a teacher can act on: the spreadsheet's line and column, duplicates, shifted rows."""

from __future__ import annotations

from accounts.roster.importing import roster_parse
from accounts.roster.values import ACCEPTED_DATE_FORMATS
from accounts.tests.roster.builders import (
    FRENCH_HEADER,
    LEA,
    csv_text,
    messages,
    ods_file,
    xlsx_file,
)

# --- errors a teacher can act on -------------------------------------------------------------


def test_errors_in_a_workbook_name_the_spreadsheet_line_and_column() -> None:
    data = xlsx_file(
        [
            ["Promotion 2026"],
            FRENCH_HEADER,
            [21900401, "Durand", "Léa", LEA, "lea@etu.example.org"],
            [21900402, None, "Paul", "30/02/2005", "pas-une-adresse"],
        ]
    )

    assert messages(roster_parse(data=data)) == [
        "Ligne 4, colonne B « Nom » : case vide : elle est obligatoire.",
        "Ligne 4, colonne D « Date de naissance » : date impossible « 30/02/2005 ». Formats "
        f"acceptés : {ACCEPTED_DATE_FORMATS}.",
        "Ligne 4, colonne E « Adresse électronique » : « pas-une-adresse » n’est pas une adresse "
        "e-mail valide.",
    ]


def test_duplicates_inside_the_file_are_flagged_numbers_and_shared_emails() -> None:
    data = ods_file(
        [
            FRENCH_HEADER,
            [21900401, "Durand", "Léa", LEA, "lea@etu.example.org"],
            [21900402, "Martin", "Paul", LEA, "LEA@etu.example.org"],
            [21900401, "Durand", "Léa", LEA, None],
        ]
    )

    assert messages(roster_parse(data=data)) == [
        "Ligne 3, colonne E « Adresse électronique » : l’adresse LEA@etu.example.org est déjà "
        "celle d’un autre étudiant, ligne 2.",
        "Ligne 4, colonne A « Numéro étudiant » : le numéro 21900401 apparaît déjà ligne 2.",
    ]


def test_a_value_outside_the_named_columns_is_flagged_as_a_shifted_row() -> None:
    data = csv_text([FRENCH_HEADER[:4], ["1", "Durand; Léa", "Léa", "14/03/2005"]]).encode()

    assert messages(roster_parse(data=data)) == [
        "Ligne 2 : une valeur hors des colonnes nommées (colonne E) : un séparateur dans un nom, "
        "ou une case à vider ?"
    ]
