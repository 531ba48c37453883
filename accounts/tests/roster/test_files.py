"""Reading real roster files: the kinds exported, encodings, delimiters, hostile files.

Every file is built here as the teacher's program writes it (accounts/tests/roster/builders).
"""

from __future__ import annotations

import codecs
import datetime
import time
import tracemalloc

import pytest

from accounts.roster.importing import RosterParse, roster_parse
from accounts.roster.tables import ROSTER_MAX_BYTES, ROSTER_MAX_ROWS
from accounts.tests.roster.builders import (
    FRENCH_HEADER,
    LEA,
    SEAN,
    csv_text,
    messages,
    ods_content,
    ods_file,
    raw_xlsx,
    sheet_xml,
    values,
    xlsx_file,
)

ENTITY_BOMB = (
    '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol%s;" % ("" if n == 1 else n - 1)) * 10}">' for n in range(1, 10)
    )
    + "]>"
)


# --- the four kinds of file of the issue, exactly as exported ------------------------------


def test_a_french_excel_semicolon_csv_in_windows_1252_is_read_with_its_accents() -> None:
    data = csv_text(
        [
            ["NUMERO ETUDIANT", "Nom", "Prenom", "Date de Naissance", "Code étape", "Régime"],
            ["21900401", "Cœurdacier", "Léa", "14/03/2005", "L1MAT", "FI"],
            ["21900402", "O'Connor", "Séan", "01/12/2004", "L1MAT", "FC"],
        ]
    ).encode("cp1252")

    result = roster_parse(data=data)

    assert messages(result) == []
    assert result.description == "CSV, encodage Windows-1252, séparateur « ; »"
    assert values(result) == [
        (2, "21900401", "Cœurdacier", "Léa", LEA, ""),
        (3, "21900402", "O'Connor", "Séan", SEAN, ""),
    ]
    assert result.ignored == ["E « Code étape »", "F « Régime »"]


def test_a_utf8_csv_with_bom_and_french_headers_is_read() -> None:
    data = (
        codecs.BOM_UTF8
        + csv_text(
            [
                ["Numéro étudiant", "Nom", "Prénom", "Date de naissance"],
                ["21900403", "Nguyễn", "Thị Mai", "1/2/2005"],
            ]
        ).encode()
    )

    result = roster_parse(data=data)

    assert messages(result) == []
    assert result.description == "CSV, encodage UTF-8, séparateur « ; »"
    assert values(result) == [(2, "21900403", "Nguyễn", "Thị Mai", datetime.date(2005, 2, 1), "")]


def test_a_utf8_csv_with_english_headers_and_commas_is_read() -> None:
    data = csv_text(
        [
            ["student_number", "last_name", "first_name", "birth_date", "email"],
            ["21900404", "Martin", "Paul", "2004-12-31", "paul@etu.example.org"],
        ],
        delimiter=",",
        newline="\n",
    ).encode()

    result = roster_parse(data=data)

    assert values(result) == [
        (2, "21900404", "Martin", "Paul", datetime.date(2004, 12, 31), "paul@etu.example.org")
    ]
    assert "séparateur « , »" in result.description


def test_a_tab_separated_file_and_excels_utf16_unicode_text_are_read() -> None:
    rows = [
        ["N° étudiant", "Nom de famille", "Prénom", "Né(e) le", "Courriel"],
        ["21900405", "Durand", "Zoé", "14.03.2005", "zoe.durand@etu.example.org"],
    ]
    for data in (
        csv_text(rows, delimiter="\t").encode(),
        codecs.BOM_UTF16_LE + csv_text(rows, delimiter="\t").encode("utf-16-le"),
    ):
        result = roster_parse(data=data)

        assert messages(result) == []
        assert result.description.startswith("TSV")
        assert values(result) == [
            (2, "21900405", "Durand", "Zoé", LEA, "zoe.durand@etu.example.org")
        ]


def test_an_xlsx_reads_integer_cells_as_text_and_date_cells_as_dates() -> None:
    data = xlsx_file(
        [
            ["Liste des inscrits — L1 Mathématiques 2026"],
            [],
            [*FRENCH_HEADER, "Code étape", "Groupe"],
            [21900401, "Cœurdacier", "Léa", LEA, "lea@etu.example.org", "L1MAT", 3],
            [21900402.0, " O’Connor ", "Séan", datetime.datetime(2004, 12, 1), None, "L1MAT", 1],
            ["21900406", "N'Diaye", "Awa", "14-03-2005", None, None, None],
        ],
        extra_sheet=True,
    )

    result = roster_parse(data=data)

    assert messages(result) == []
    assert result.description == "Classeur Excel (.xlsx), première feuille « Feuil1 »"
    assert values(result) == [
        (4, "21900401", "Cœurdacier", "Léa", LEA, "lea@etu.example.org"),
        (5, "21900402", "O’Connor", "Séan", SEAN, ""),
        (6, "21900406", "N'Diaye", "Awa", LEA, ""),
    ]
    assert result.ignored == ["F « Code étape »", "G « Groupe »"]


def test_an_ods_from_libreoffice_is_read_with_typed_cells_and_repeated_empties() -> None:
    data = ods_file(
        [
            [*FRENCH_HEADER, None, "Régime"],
            [21900401, "Cœurdacier", "Léa", LEA, "lea@etu.example.org", None, "FI"],
            [],
            [21900402, "O'Connor", "Séan", "01/12/2004", None, None, "FC"],
        ]
    )

    result = roster_parse(data=data)

    assert messages(result) == []
    assert result.description == "Classeur OpenDocument (.ods), première feuille"
    assert values(result) == [
        (2, "21900401", "Cœurdacier", "Léa", LEA, "lea@etu.example.org"),
        (4, "21900402", "O'Connor", "Séan", SEAN, ""),
    ]
    assert result.ignored == ["G « Régime »"]


def test_a_workbook_named_csv_is_still_read_as_a_workbook() -> None:
    # Recognised from its bytes: the name a teacher gave it does not matter.
    data = xlsx_file([FRENCH_HEADER[:4], [21900401, "Durand", "Léa", LEA]])

    assert values(roster_parse(data=data)) == [(2, "21900401", "Durand", "Léa", LEA, "")]


# --- encodings ------------------------------------------------------------------------------


def test_the_encoding_can_be_forced_and_a_wrong_choice_names_the_line() -> None:
    rows = [
        ["N° étudiant", "Nom", "Prénom", "Date de naissance"],
        ["1", "Lefèvre", "Léa", "14/03/2005"],
    ]
    windows = csv_text(rows).encode("cp1252")

    forced_utf8 = roster_parse(data=windows, encoding="utf-8")
    forced_latin1 = roster_parse(data=windows, encoding="latin-1")

    assert messages(forced_utf8) == [
        "Ligne 1 : ce fichier n’est pas encodé en UTF-8. Choisissez « Détection automatique » "
        "ou un autre encodage."
    ]
    assert values(forced_latin1)[0][2] == "Lefèvre"
    assert "ISO-8859-1" in forced_latin1.description


# --- files refused with a clear message, memory and time bounded ----------------------------


def _parse_bounded(data: bytes, *, max_seconds: float = 5, max_mib: float = 60) -> RosterParse:
    """Parse under tracemalloc (which slows Python down a few times): the time bounds are
    generous so that a loaded machine passes, the memory ones are what the test is about."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = roster_parse(data=data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < max_seconds
    assert peak < max_mib * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    return result


def test_an_xlsx_zip_bomb_is_refused_before_it_is_inflated() -> None:
    bomb = raw_xlsx(sheet_xml([FRENCH_HEADER]), padding_member_bytes=200 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024

    result = _parse_bounded(bomb, max_seconds=5, max_mib=10)

    assert messages(result) == [
        "Ce classeur se décompresse en plus de 64 Mo : il est refusé. Exportez seulement la "
        "liste des étudiants (CSV, .xlsx ou .ods)."
    ]


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_an_xml_entity_bomb_is_refused(kind: str) -> None:
    if kind == "xlsx":
        sheet = sheet_xml(
            [FRENCH_HEADER[:4], ["&lol9;", "D", "L", "14/03/2005"]], doctype=ENTITY_BOMB
        )
        data = raw_xlsx(sheet)
    else:
        data = ods_file(
            content=ods_content([["&lol9;"]], doctype=ENTITY_BOMB).replace("&amp;", "&")
        )

    result = _parse_bounded(data, max_seconds=5, max_mib=20)

    assert messages(result) == [
        "Ce classeur est illisible ou abîmé. Ouvrez-le dans votre tableur, enregistrez-le à "
        "nouveau et recommencez."
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "contenu binaire"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "Ce fichier est un PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "Excel 97-2003 (.xls)"),
        (b"PK\x03\x04 truncated", "abîmé"),
        (b"", "Le fichier est vide."),
        (b" \r\n\r\n", "Le fichier est vide."),
    ],
    ids=["binary-renamed-csv", "pdf", "xls", "broken-zip", "empty", "blank"],
)
def test_a_file_that_is_not_a_roster_gets_a_clear_message(data: bytes, expected: str) -> None:
    result = roster_parse(data=data)

    assert len(result.errors) == 1
    assert expected in str(result.errors[0])
    assert result.rows == []


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_an_empty_sheet_is_refused(kind: str) -> None:
    data = xlsx_file([]) if kind == "xlsx" else ods_file([])

    assert messages(roster_parse(data=data)) == ["La feuille est vide."]


def test_a_file_over_the_size_limit_is_refused_without_parsing() -> None:
    data = b"x" * (ROSTER_MAX_BYTES + 1)

    assert messages(roster_parse(data=data)) == ["Fichier trop volumineux : 5 Mo au plus."]


@pytest.mark.parametrize("kind", ["csv", "xlsx", "ods"])
def test_a_hundred_thousand_rows_are_refused_without_reading_them_all(kind: str) -> None:
    count = 100_000
    if kind == "csv":
        lines = ["n;nom;prenom;naissance"] + [f"{n};D;L;01/01/2005" for n in range(count)]
        data = "\n".join(lines).encode()
    elif kind == "xlsx":
        rows_xml = "".join(
            f'<row r="{n}"><c r="A{n}"><v>{n}</v></c>'
            f'<c r="B{n}" t="inlineStr"><is><t>D</t></is></c></row>'
            for n in range(2, count + 2)
        )
        data = raw_xlsx(
            sheet_xml([FRENCH_HEADER[:4]], rows_xml=rows_xml, dimension=f"A1:D{count + 1}")
        )
    else:
        # One row element "repeated 100,000 times": expanded only as far as the limit.
        content = ods_content([FRENCH_HEADER[:4]]).replace(
            '<table:table-row table:number-rows-repeated="1048000">',
            '<table:table-row table:number-rows-repeated="100000"><table:table-cell '
            'office:value-type="string"><text:p>1</text:p></table:table-cell></table:table-row>'
            '<table:table-row table:number-rows-repeated="1048000">',
        )
        data = ods_file(content=content)
    assert len(data) <= ROSTER_MAX_BYTES

    # The time bound only catches a hang: the suite may run on a loaded machine, in parallel.
    result = _parse_bounded(data, max_seconds=120, max_mib=80)

    assert messages(result) == [
        f"Le fichier a plus de {ROSTER_MAX_ROWS:,} lignes d’étudiants : découpez-le en "
        "plusieurs fichiers.".replace(",", "\u202f")
    ]


def test_an_ods_cell_repeated_across_columns_fills_each_of_them() -> None:
    # Calc writes two adjacent equal cells as one element "repeated twice".
    martin = (
        '<table:table-cell office:value-type="string" calcext:value-type="string">'
        "<text:p>Martin</text:p></table:table-cell>"
    )
    content = ods_content([FRENCH_HEADER[:4], [21900401, "Martin", "Martin", LEA]]).replace(
        martin + martin,
        martin.replace(
            "<table:table-cell ", '<table:table-cell table:number-columns-repeated="2" '
        ),
    )
    assert 'number-columns-repeated="2"' in content

    assert values(roster_parse(data=ods_file(content=content))) == [
        (2, "21900401", "Martin", "Martin", LEA, "")
    ]
