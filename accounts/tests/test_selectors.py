from __future__ import annotations

import pytest

from accounts.models import Student
from accounts.selectors import student_roster_rows
from accounts.tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def test_roster_rows_use_the_import_columns_and_neutralise_formulas() -> None:
    StudentFactory.create(student_number="1", last_name="+33 Dupont", first_name="@Léa", email="")

    rows = list(student_roster_rows(students=Student.objects.all()))

    assert rows == [
        ["student_number", "last_name", "first_name", "birth_date", "email"],
        ["1", "'+33 Dupont", "'@Léa", "2005-02-01", ""],
    ]
