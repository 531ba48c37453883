"""Finding the columns: French and English headers however spelled; missing and doubled ones."""

from __future__ import annotations

import pytest

from accounts.roster.columns import normalize_header
from accounts.roster.importing import roster_parse
from accounts.tests.roster.builders import (
    LEA,
    csv_text,
    messages,
    values,
)

# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("student_number", "studentnumber"),
        ("N° étudiant", "numeroetudiant"),
        ("n°  Étudiant", "numeroetudiant"),
        ("Nº ÉTUDIANT", "numeroetudiant"),
        ("NUMERO ETUDIANT", "numeroetudiant"),
        ("Numéro d'étudiant", "numerodetudiant"),
        ("Né(e) le", "neele"),
        ("E-mail", "email"),
        ("Adresse électronique", "adresseelectronique"),
    ],
)
def test_headers_are_compared_without_case_accents_spaces_punctuation_or_n_degree(
    header: str, expected: str
) -> None:
    assert normalize_header(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        ["student_number", "last_name", "first_name", "birth_date", "email"],
        ["Numéro étudiant", "Nom", "Prénom", "Date de naissance", "E-mail"],
        ["N° étudiant", "Nom de famille", "PRÉNOM", "Né(e) le", "Courriel"],
        ["Numéro", "nom", "prenom", "Date naissance", "Mail"],
        ["Identifiant", "NOM", "Prénom", "date_de_naissance", "Adresse électronique"],
    ],
)
def test_french_and_english_header_spellings_all_find_the_columns(header: list[str]) -> None:
    data = csv_text([header, ["21900401", "Durand", "Léa", "14/03/2005", "lea@etu.example.org"]])

    result = roster_parse(data=data.encode())

    assert values(result) == [(2, "21900401", "Durand", "Léa", LEA, "lea@etu.example.org")]


def test_a_missing_column_names_the_columns_that_were_read() -> None:
    data = csv_text(
        [["N° INE", "Nom", "Prénom", "Date de naissance"], ["1", "D", "L", "14/03/2005"]]
    )

    result = roster_parse(data=data.encode())

    assert messages(result) == [
        "Ligne 1 : colonne(s) introuvable(s) : N° étudiant. La première ligne doit nommer les "
        "colonnes, par exemple : N° étudiant, Nom, Prénom, Date de naissance, E-mail (ou "
        "student_number, last_name, first_name, birth_date, email). Colonnes lues : « N° INE », "
        "« Nom », « Prénom », « Date de naissance »."
    ]


def test_two_columns_for_one_field_are_an_error() -> None:
    data = csv_text(
        [
            ["N° étudiant", "Nom", "Nom de famille", "Prénom", "Date de naissance"],
            ["1", "D", "D", "L", "14/03/2005"],
        ]
    )

    assert messages(roster_parse(data=data.encode())) == [
        "Ligne 1, colonne C « Nom de famille » : deux colonnes pour « Nom » (B « Nom » et "
        "C « Nom de famille ») : gardez-en une."
    ]
