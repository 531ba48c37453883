"""The roster import service: preview, apply (all or nothing), idempotence, bad input."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import Student, User
from accounts.services import (
    StudentImportInvalid,
    student_import_apply,
    student_import_preview,
)
from accounts.tests.factories import StudentFactory, UserFactory

pytestmark = pytest.mark.django_db

ROSTER = (
    "student_number;last_name;first_name;birth_date;email\n"
    "20260001;Durand;Léa;2005-02-01;lea.durand@etu.example.org\n"
    "20260002;Nguyễn;Thị Mai;31/12/2004;\n"
).encode()


def messages(data: bytes) -> list[str]:
    return [str(error) for error in student_import_preview(data=data).errors]


def test_preview_lists_rows_to_create_and_writes_nothing() -> None:
    preview = student_import_preview(data=ROSTER)

    assert preview.is_valid
    assert [row.student_number for row in preview.to_create] == ["20260001", "20260002"]
    assert preview.to_create[1].birth_date == datetime.date(2004, 12, 31)
    assert not Student.objects.exists()
    assert not User.objects.exists()


def test_apply_creates_students_in_first_login_state_without_hashing() -> None:
    result = student_import_apply(data=ROSTER)

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    student = Student.objects.select_related("user").get(student_number="20260002")
    assert student.user.username == "20260002"
    assert student.user.get_full_name() == "Thị Mai Nguyễn"
    assert student.must_change_password
    assert not student.user.has_usable_password()


def test_importing_the_same_file_twice_changes_nothing_the_second_time() -> None:
    student_import_apply(data=ROSTER)
    before = list(Student.objects.order_by("pk").values())
    passwords = list(User.objects.order_by("pk").values_list("password", flat=True))

    result = student_import_apply(data=ROSTER)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert list(Student.objects.order_by("pk").values()) == before
    assert list(User.objects.order_by("pk").values_list("password", flat=True)) == passwords


def test_reimport_updates_names_but_never_resets_a_chosen_password() -> None:
    student = StudentFactory.create(student_number="20260001", must_change_password=False)
    chosen = make_password("Mot-de-passe-choisi-2026")
    User.objects.filter(pk=student.user_id).update(password=chosen)

    preview = student_import_preview(data=ROSTER)
    result = student_import_apply(data=ROSTER)

    assert [row.student_number for row in preview.to_update] == ["20260001"]
    assert (result.created, result.updated) == (1, 1)
    student.refresh_from_db()
    assert student.last_name == "Durand"
    assert student.email == "lea.durand@etu.example.org"
    assert not student.must_change_password
    assert User.objects.get(pk=student.user_id).password == chosen


def test_comma_separated_file_with_bom_and_crlf_is_accepted() -> None:
    data = (
        "\ufeffstudent_number,last_name,first_name,birth_date,email\r\n"
        "20260001,Durand,Léa,01/02/2005,\r\n"
    ).encode()

    preview = student_import_preview(data=data)

    assert preview.is_valid
    assert preview.to_create[0].birth_date == datetime.date(2005, 2, 1)


def test_email_column_is_optional() -> None:
    data = b"student_number;last_name;first_name;birth_date\n20260001;Durand;Lea;2005-02-01\n"

    assert student_import_preview(data=data).is_valid


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "Le fichier est vide."),
        (b"student_number;last_name;first_name;birth_date;email\n", "aucune ligne"),
        (
            "student_number;famille;first_name;birth_date\n1;Durand;Léa;2005-02-01\n".encode(),
            "Ligne 1 : colonne(s) introuvable(s) : Nom.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;Durand;L\xe9a;2005-02-01\n"
            b"1;Dupont;Zo\xe9;2005-02-01\n",
            "Ligne 3, colonne A « student_number » : le numéro 1 apparaît déjà ligne 2.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;;Lea;2005-02-01\n",
            "Ligne 2, colonne B « last_name » : case vide : elle est obligatoire.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;Durand;Lea;31/02/2005\n",
            "Ligne 2, colonne D « birth_date » : date impossible « 31/02/2005 ».",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;Durand;Lea;demain\n",
            "Ligne 2, colonne D « birth_date » : « demain » n’est pas une date.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;Durand;Lea;2999-01-01\n",
            "Ligne 2, colonne D « birth_date » : la date de naissance est dans le futur.",
        ),
        (
            (
                "student_number;last_name;first_name;birth_date\n" + "1" * 151 + ";D;L;2005-02-01\n"
            ).encode(),
            "Ligne 2, colonne A « student_number » : 150 caractères au plus.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n12 34;D;L;2005-02-01\n",
            "Ligne 2, colonne A « student_number » : seuls les lettres",
        ),
        (
            b"student_number;last_name;first_name;birth_date;email\n1;D;L;2005-02-01;pas-un-mail\n",
            "Ligne 2, colonne E « email » : « pas-un-mail » n’est pas une adresse e-mail valide.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;D;L;2005-02-01\n"
            b"2;E;M;2005-02-02\n1;F;N;2005-02-03\n",
            "Ligne 4, colonne A « student_number » : le numéro 1 apparaît déjà ligne 2.",
        ),
        (
            b"student_number;last_name;first_name;birth_date\n1;D;L;2005-02-01;extra\n",
            "Ligne 2 : une valeur hors des colonnes nommées (colonne E)",
        ),
    ],
    ids=[
        "empty-file",
        "header-only",
        "missing-column",
        "windows-1252-duplicate",
        "empty-field",
        "impossible-date",
        "not-a-date",
        "future-date",
        "151-char-number",
        "invalid-number",
        "invalid-email",
        "duplicate-number",
        "too-many-values",
    ],
)
def test_bad_input_gets_a_message_naming_row_and_field_and_nothing_is_saved(
    data: bytes, expected: str
) -> None:
    assert any(expected in message for message in messages(data)), messages(data)

    with pytest.raises(StudentImportInvalid):
        student_import_apply(data=data)
    assert not Student.objects.exists()
    assert not User.objects.exists()


def test_one_bad_row_among_good_ones_saves_nothing() -> None:
    data = ROSTER + b"20260003;Martin;Paul;30/02/2005;\n"

    with pytest.raises(StudentImportInvalid) as raised:
        student_import_apply(data=data)

    assert [(error.line, error.field) for error in raised.value.errors] == [(4, "birth_date")]
    assert not Student.objects.exists()


def test_a_student_number_that_is_an_existing_non_student_account_is_refused() -> None:
    UserFactory.create(username="prof.dupont")
    data = b"student_number;last_name;first_name;birth_date\nprof.dupont;Root;Eve;2005-02-01\n"

    assert any("n’est pas un étudiant" in message for message in messages(data))
    with pytest.raises(StudentImportInvalid):
        student_import_apply(data=data)
    assert not Student.objects.exists()


@pytest.mark.parametrize(
    "number",
    [
        "admin",
        "Administrator",
        "administrateur",
        "ROOT",
        "superuser",
        "test",
        "Guest",
        "user",
        "staff",
        "support",
        "postgres",
    ],
)
def test_a_well_known_username_is_refused_as_a_student_number_in_any_case(number: str) -> None:
    data = (
        "student_number;last_name;first_name;birth_date\n"
        "20260001;Durand;Léa;2005-02-01\n"
        f"{number};Root;Eve;2005-02-01\n"
    ).encode()

    preview = student_import_preview(data=data)

    assert [str(error) for error in preview.errors] == [
        f"Ligne 3, colonne A « student_number » : « {number} » est un nom de compte réservé, "
        "pas un numéro d’étudiant."
    ]
    assert [row.student_number for row in preview.to_create] == ["20260001"]
    with pytest.raises(StudentImportInvalid):
        student_import_apply(data=data)
    assert not User.objects.exists()


def test_preview_and_apply_of_thousands_of_rows_use_a_handful_of_queries(
    django_assert_max_num_queries: object,
) -> None:
    lines = ["student_number;last_name;first_name;birth_date;email"] + [
        f"2026{n:05d};Nom{n};Prénom{n};2005-02-01;" for n in range(3000)
    ]
    data = "\n".join(lines).encode()

    with django_assert_max_num_queries(20):  # type: ignore[operator]
        result = student_import_apply(data=data)

    assert result.created == 3000
    assert Student.objects.count() == 3000
