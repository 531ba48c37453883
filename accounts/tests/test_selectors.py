from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Student, User
from accounts.selectors import (
    student_roster_csv,
    student_roster_rows,
    student_roster_xlsx,
    user_by_id,
)
from accounts.tests.factories import StudentFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_roster_rows_use_the_import_columns_add_the_logins_and_neutralise_formulas() -> None:
    StudentFactory.create(student_number="1", last_name="+33 Dupont", first_name="@Léa", email="")

    rows = list(student_roster_rows(students=Student.objects.select_related("user")))

    assert rows == [
        [
            "N° étudiant",
            "Nom",
            "Prénom",
            "Date de naissance",
            "E-mail",
            "Première connexion faite",
            "Dernière connexion",
        ],
        ["1", "'+33 Dupont", "'@Léa", datetime.date(2005, 2, 1), "", "non", None],
    ]


def test_the_csv_and_xlsx_exports_say_who_has_logged_in_and_when() -> None:
    done = StudentFactory.create(student_number="21900401", must_change_password=False)
    StudentFactory.create(student_number="21900402", last_name="=1+1")
    moment = datetime.datetime(2026, 11, 30, 8, 15, tzinfo=datetime.UTC)
    User.objects.filter(pk=done.user_id).update(last_login=moment)
    students = Student.objects.select_related("user").order_by("student_number")

    text = student_roster_csv(students=students)
    sheet = load_workbook(io.BytesIO(student_roster_xlsx(students=students))).active
    assert sheet is not None
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]

    local = timezone.localtime(moment).replace(tzinfo=None)  # 09:15 in Paris
    assert text.splitlines()[1] == f"21900401;Durand;Léa;01/02/2005;;oui;30/11/2026 {local:%H:%M}"
    assert text.splitlines()[2] == "21900402;'=1+1;Léa;01/02/2005;;non;"
    assert cells[1] == [
        "21900401",
        "Durand",
        "Léa",
        datetime.datetime(2005, 2, 1),
        None,
        "oui",
        local,
    ]
    assert cells[2][1] == "'=1+1"
    assert sheet["D2"].number_format == "DD/MM/YYYY"


def test_user_by_id_reads_every_field_the_orm_reads() -> None:
    user = UserFactory.create(username="alice", first_name="Alice", email="alice@example.org")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now(), is_staff=True)

    read = user_by_id(user.pk)

    expected = User.objects.get(pk=user.pk)
    assert read is not None and not read._state.adding
    assert {f.attname: getattr(read, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in User._meta.concrete_fields
    }


def test_user_by_id_is_none_for_an_unknown_id() -> None:
    assert user_by_id(123456789) is None
