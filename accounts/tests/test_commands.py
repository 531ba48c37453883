from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Student, User

pytestmark = pytest.mark.django_db

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

    assert "Imported: 2 created, 0 updated, 0 unchanged." in out.getvalue()
    assert Student.objects.count() == 2


def test_import_students_dry_run_writes_nothing(roster_file: Path) -> None:
    out = StringIO()

    call_command("import_students", str(roster_file), "--dry-run", stdout=out)

    assert "would create 2" in out.getvalue()
    assert not Student.objects.exists()
    assert not User.objects.exists()


def test_import_students_twice_changes_nothing_the_second_time(roster_file: Path) -> None:
    call_command("import_students", str(roster_file), stdout=StringIO())
    out = StringIO()

    call_command("import_students", str(roster_file), stdout=out)

    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()


def test_import_students_with_errors_names_them_and_imports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ROSTER + "20260003;;Zoé;2005-13-01;\n", encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing imported"):
        call_command("import_students", str(path), stdout=StringIO(), stderr=err)

    assert "Ligne 4, champ « last_name »" in err.getvalue()
    assert "Ligne 4, champ « birth_date »" in err.getvalue()
    assert not Student.objects.exists()


def test_import_students_reports_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_students", str(tmp_path / "absent.csv"))
