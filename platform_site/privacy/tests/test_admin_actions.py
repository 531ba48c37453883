from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from accounts.models import Student, User
from accounts.tests.factories import StudentFactory, UserFactory
from codegen.models import Question
from codegen.tests.factories import AnsweredQuestionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/student/"


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="prof", is_staff=True, is_superuser=True))
    return client


def test_staff_export_one_students_data_as_a_zip(staff_client: Client) -> None:
    student = StudentFactory.create()
    AnsweredQuestionFactory.create(user=student.user, message="Question de l’étudiant")

    response = staff_client.post(
        CHANGELIST, {"action": "export_student_data", "_selected_action": [student.pk]}
    )

    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert json.loads(archive.read("questions.json"))[0]["message"] == "Question de l’étudiant"


def test_staff_erase_a_student_after_confirming(staff_client: Client) -> None:
    student = StudentFactory.create()
    AnsweredQuestionFactory.create(user=student.user)
    chosen = {"action": "erase_student_data", "_selected_action": [student.pk]}

    confirm = staff_client.post(CHANGELIST, chosen)

    assert confirm.status_code == 200
    assert 'name="confirm" value="yes"' in confirm.content.decode()
    assert Student.objects.filter(pk=student.pk).exists()

    done = staff_client.post(CHANGELIST, {**chosen, "confirm": "yes"})

    assert done.status_code == 302
    assert not Student.objects.exists()
    assert not User.objects.filter(pk=student.user_id).exists()
    assert not Question.objects.exists()
