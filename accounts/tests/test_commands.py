from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts.models import Student, User
from accounts.roster.tables import ROSTER_MAX_BYTES
from accounts.tests.roster.builders import FRENCH_HEADER, ods_file, xlsx_file

pytestmark = pytest.mark.django_db

LEA = datetime.date(2005, 3, 14)

ROSTER = (
    "student_number;last_name;first_name;birth_date;email\n"
    "20260001;Durand;Léa;2005-02-01;\n"
    "20260002;Martin;Paul;31/12/2004;\n"
)


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


def test_import_students_imports_in_a_bounded_number_of_queries(
    roster_file: Path, django_assert_max_num_queries: object
) -> None:
    out = StringIO()

    with django_assert_max_num_queries(12):  # type: ignore[operator]
        call_command("import_students", str(roster_file), stdout=out)

    assert "Importé : 2 créé(s), 0 mis à jour, 0 inchangé(s)." in out.getvalue()
    assert Student.objects.count() == 2


def test_import_students_dry_run_writes_nothing(roster_file: Path) -> None:
    out = StringIO()

    call_command("import_students", str(roster_file), "--dry-run", stdout=out)

    assert "2 à créer" in out.getvalue()
    assert not Student.objects.exists()
    assert not User.objects.exists()


def test_import_students_twice_changes_nothing_the_second_time(roster_file: Path) -> None:
    call_command("import_students", str(roster_file), stdout=StringIO())
    out = StringIO()

    call_command("import_students", str(roster_file), stdout=out)

    assert "0 créé(s), 0 mis à jour, 2 inchangé(s)" in out.getvalue()


def test_import_students_with_errors_names_them_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ROSTER + "20260003;;Zoé;2005-13-01;\n", encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="rien n’a été importé"):
        call_command("import_students", str(path), stdout=StringIO(), stderr=err)

    assert "Ligne 4, colonne B « last_name »" in err.getvalue()
    assert "Ligne 4, colonne D « birth_date »" in err.getvalue()
    assert not Student.objects.exists()


def test_import_students_reports_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Impossible de lire"):
        call_command("import_students", str(tmp_path / "absent.csv"))


def test_import_students_reads_an_xlsx_and_an_ods_and_lists_the_ignored_columns(
    tmp_path: Path,
) -> None:
    header = [*FRENCH_HEADER, "Code étape"]
    xlsx = tmp_path / "export-scolarite.xlsx"
    xlsx.write_bytes(xlsx_file([header, [21900401, "Cœurdacier", "Léa", LEA, None, "L1MAT"]]))
    ods = tmp_path / "liste.ods"
    ods.write_bytes(ods_file([header, [21900402, "O'Connor", "Séan", LEA, None, "L1MAT"]]))
    out = StringIO()

    call_command("import_students", str(xlsx), "--dry-run", stdout=out)
    call_command("import_students", str(xlsx), stdout=out)
    call_command("import_students", str(ods), stdout=out)

    assert "Lu : Classeur Excel (.xlsx), première feuille « Feuil1 »" in out.getvalue()
    assert "Colonnes ignorées : F « Code étape »" in out.getvalue()
    assert "1 à créer" in out.getvalue()
    assert sorted(Student.objects.values_list("student_number", "last_name")) == [
        ("21900401", "Cœurdacier"),
        ("21900402", "O'Connor"),
    ]


def test_import_students_encoding_can_be_forced(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("N° étudiant;Nom;Prénom;Né(e) le\n1;Lefèvre;Zoé;14/03/2005\n".encode("cp1252"))
    err = StringIO()

    with pytest.raises(CommandError, match="rien n’a été importé"):
        call_command("import_students", str(path), "--encoding", "utf-8", stderr=err)
    call_command("import_students", str(path), "--encoding", "cp1252", stdout=StringIO())

    assert "n’est pas encodé en UTF-8" in err.getvalue()
    assert Student.objects.get().last_name == "Lefèvre"


def test_import_students_refuses_a_file_over_the_limit_before_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(ROSTER_MAX_BYTES + 1)

    with pytest.raises(CommandError, match="dépasse 5 Mo"):
        call_command("import_students", str(path))


def test_import_students_speaks_english_throughout_when_the_site_does(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    path.write_bytes(
        xlsx_file([[*FRENCH_HEADER, "Code étape"], [20260001, "Durand", "Léa", LEA, "", "X"]])
    )
    out = StringIO()

    with translation.override("en"):
        call_command("import_students", str(path), "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "Read: Excel workbook (.xlsx), first sheet “Feuil1”",
        "Ignored columns: F “Code étape”",
        "Dry run, nothing written: would create 1, update 0, leave 0 unchanged.",
    ]


def test_import_students_errors_are_in_the_sites_language(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER.replace("2005-02-01", "31/02/2005"), encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match=r"^1 erreur\(s\) : rien n’a été importé\.$"):
        call_command("import_students", str(path), stdout=StringIO(), stderr=err)

    assert err.getvalue().startswith("Ligne 2, colonne D « birth_date » : date impossible")
