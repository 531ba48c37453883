"""Cells into values: every accepted date format, names kept as typed, numbers not abbreviated."""

from __future__ import annotations

import unicodedata

import pytest

from accounts.roster.importing import roster_parse
from accounts.roster.values import ACCEPTED_DATE_FORMATS
from accounts.tests.roster.builders import (
    FRENCH_HEADER,
    LEA,
    csv_text,
    messages,
    values,
)

# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["14/03/2005", "14/3/2005", "14.03.2005", "14-03-2005", "2005-03-14", "14/03/2005 00:00:00"],
)
def test_every_accepted_text_date_format_is_read(text: str) -> None:
    data = csv_text([FRENCH_HEADER[:4], ["1", "Durand", "Léa", text]]).encode()

    assert values(roster_parse(data=data))[0][4] == LEA


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/03/05", "« 14/03/05 » : l’année doit avoir quatre chiffres."),
        ("31/02/2005", "date impossible « 31/02/2005 »."),
        ("2005-13-01", "date impossible « 2005-13-01 »."),
        ("mars 2005", "« mars 2005 » n’est pas une date."),
    ],
)
def test_a_two_digit_year_or_an_impossible_date_is_a_row_error_listing_the_formats(
    text: str, expected: str
) -> None:
    data = csv_text([FRENCH_HEADER[:4], ["1", "Durand", "Léa", text]]).encode()

    assert messages(roster_parse(data=data)) == [
        f"Ligne 2, colonne D « Date de naissance » : {expected} Formats acceptés : "
        f"{ACCEPTED_DATE_FORMATS}."
    ]


def test_names_keep_accents_and_apostrophes_and_spaces_are_trimmed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    data = csv_text(
        [
            FRENCH_HEADER[:4],
            ["  21900401 ", " Cœurdacier ", "Léa-Marie", " 14/03/2005 "],
            ["21900402", "O'Connor", "Séan", "01/12/2004"],
            ["21900403", "N’Diaye", "Awa", "01/12/2004"],
            ["21900404", decomposed, "Thị Mai", "01/12/2004"],
        ]
    ).encode()

    rows = values(roster_parse(data=data))

    assert [(row[1], row[2], row[3]) for row in rows] == [
        ("21900401", "Cœurdacier", "Léa-Marie"),
        ("21900402", "O'Connor", "Séan"),
        ("21900403", "N’Diaye", "Awa"),
        ("21900404", "Nguyễn", "Thị Mai"),
    ]
    assert rows[3][2] == unicodedata.normalize("NFC", "Nguyễn")


def test_a_number_the_spreadsheet_wrote_in_scientific_notation_is_an_error() -> None:
    data = csv_text([FRENCH_HEADER[:4], ["2,19E+07", "Durand", "Léa", "14/03/2005"]]).encode(
        "cp1252"
    )

    assert messages(roster_parse(data=data)) == [
        "Ligne 2, colonne A « Numéro étudiant » : « 2,19E+07 » : le tableur a abrégé ce numéro "
        "en notation scientifique. Mettez la colonne au format Texte, ou importez le classeur "
        ".xlsx lui-même."
    ]
