from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client

from accounts.models import Student, User
from accounts.tests.factories import PASSWORD, StudentFactory, UserFactory
from codegen.models import Question
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.tests.factories import ConversionFactory
from tests.pdfs import blank_pdf

pytestmark = pytest.mark.django_db

QUESTION_TEXT = "Comment inverser la liste des notes de Zoé Quénardel ?"
DOCUMENT_TEXT = "\\section{Exercice de Zoé} $x \\neq 0$"


def student_with_everything(settings: Any) -> tuple[Student, Client, dict[str, Any]]:
    student = StudentFactory.create(
        student_number="21999888",
        last_name="Quénardel",
        first_name="Zoé",
        email="zoe.quenardel@example.org",
        must_change_password=False,
        user=UserFactory.create(
            username="21999888",
            first_name="Zoé",
            last_name="Quénardel",
            email="zoe.quenardel@example.org",
        ),
    )
    user = student.user
    AnsweredQuestionFactory.create(user=user, message=QUESTION_TEXT)
    FailedQuestionFactory.create(user=user, message="Deuxième question de Zoé")
    source = blank_pdf(2) + b"%Zoe-original"
    conversion = ConversionFactory.create(
        owner=user,
        pdf=source,
        original_filename="td-zoe-quenardel.pdf",
        status=Conversion.Status.DONE,
        latex=DOCUMENT_TEXT,
    )
    for number in (1, 2):
        Version.objects.create(
            conversion=conversion,
            number=number,
            origin=Version.Origin.ORIGINAL if number == 1 else Version.Origin.EDITED,
            latex=f"{DOCUMENT_TEXT} % version {number}",
            compiled_pdf=blank_pdf(1) + f"%v{number}".encode() if number == 1 else None,
        )
    RepairRequest.objects.create(conversion=conversion, owner=user, source_number=1)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from latexocr.tasks import conversion_run_task

    conversion_run_task.enqueue(str(conversion.pk))
    client = Client()
    assert client.post(
        "/accounts/login/", {"username": "21999888", "password": "wrong"}
    ).status_code == 401  # fmt: skip
    assert client.post(
        "/accounts/login/", {"username": "21999888", "password": PASSWORD}
    ).status_code == 302  # fmt: skip
    # Failures typed after the login (a success forgives earlier ones from the same address).
    fields = {"user_agent": "Firefox", "ip_address": "192.0.2.9", "http_accept": "*/*"}
    fields |= {"username": "21999888", "path_info": "/accounts/login/"}
    AccessFailureLog.objects.create(**fields, locked_out=False)
    AccessAttempt.objects.create(**fields, get_data="", post_data="", failures_since_start=1)
    return student, client, {"conversion": conversion, "source": source}


def test_the_export_holds_every_record_with_the_original_pdfs_and_every_version(
    settings: Any,
) -> None:
    student, client, made = student_with_everything(settings)

    response = client.get("/privacy/my-data/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    account = json.loads(archive.read("account.json"))
    assert account["student"]["student_number"] == "21999888"
    assert account["email"] == "zoe.quenardel@example.org"
    questions = json.loads(archive.read("questions.json"))
    database = Question.objects.filter(user=student.user).order_by("created_at")
    assert [q["message"] for q in questions] == [q.message for q in database]
    assert questions[0]["code"] == database[0].code
    conversion = made["conversion"]
    folder = f"conversions/{conversion.pk}"
    assert archive.read(f"{folder}/original.pdf") == made["source"]
    record = json.loads(archive.read(f"{folder}/conversion.json"))
    assert record["original_filename"] == "td-zoe-quenardel.pdf"
    assert len(record["versions"]) == Version.objects.filter(conversion=conversion).count() == 2
    assert len(record["repair_requests"]) == 1
    for version in Version.objects.filter(conversion=conversion):
        assert archive.read(f"{folder}/versions/{version.number}.tex").decode() == version.latex
    assert archive.read(f"{folder}/versions/1.pdf").endswith(b"%v1")
    assert f"{folder}/versions/2.pdf" not in archive.namelist()


def test_the_export_holds_nothing_of_another_user(settings: Any) -> None:
    student_with_everything(settings)
    other = UserFactory.create()
    client = Client()
    client.force_login(other)

    archive = zipfile.ZipFile(io.BytesIO(client.get("/privacy/my-data/export/").content))

    assert json.loads(archive.read("questions.json")) == []
    assert not [name for name in archive.namelist() if name.startswith("conversions/")]


def text_columns() -> list[tuple[str, str]]:
    columns = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            for column in connection.introspection.get_table_description(cursor, table):
                columns.append((table, column.name))
    return columns


def traces(needles: list[str]) -> list[str]:
    """Every (table, column) whose text form contains one of the needles."""
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            quoted_table = connection.ops.quote_name(table)
            quoted_column = connection.ops.quote_name(column)
            for needle in needles:
                cursor.execute(
                    f"SELECT 1 FROM {quoted_table} WHERE CAST({quoted_column} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{needle}%"],
                )
                if cursor.fetchone():
                    found.append(f"{table}.{column}: {needle}")
    return found


def test_erasing_the_account_leaves_no_trace_of_the_student_in_any_column(
    settings: Any,
) -> None:
    student, client, made = student_with_everything(settings)
    staff = UserFactory.create(username="prof", is_staff=True, is_superuser=True)
    staff_client = Client()
    staff_client.force_login(staff)
    staff_client.get(f"/admin/accounts/student/{student.pk}/change/")
    user_id = student.user.pk
    needles = [
        "21999888", "Quénardel", "zoe.quenardel@example.org", QUESTION_TEXT,
        "Deuxième question de Zoé", DOCUMENT_TEXT, "td-zoe-quenardel", str(made["conversion"].pk),
    ]  # fmt: skip
    assert traces(needles)  # the scan finds them before

    refused = client.post("/privacy/my-data/erase/", {"password": "not-mine"})
    assert refused.status_code == 400
    assert User.objects.filter(pk=user_id).exists()

    response = client.post("/privacy/my-data/erase/", {"password": PASSWORD})

    assert response.status_code == 302
    assert traces(needles) == []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if getattr(field, "related_model", None) is User and field.concrete:
                assert not model._default_manager.filter(**{field.attname: user_id}).exists()
    assert client.get("/home/").status_code == 302
    signed_in = [session.get_decoded().get("_auth_user_id") for session in Session.objects.all()]
    assert str(user_id) not in signed_in
    assert User.objects.filter(pk=staff.pk).exists()


def test_the_account_page_is_linked_from_the_header_and_offers_export_and_erasure(
    logged_in: Client,
) -> None:
    home = logged_in.get("/home/").content.decode()
    page = logged_in.get("/privacy/my-data/").content.decode()

    assert 'href="/privacy/my-data/"' in home
    assert 'href="/privacy/my-data/export/"' in page
    assert 'action="/privacy/my-data/erase/"' in page


def test_erasure_needs_a_post_and_a_login(client: Client, logged_in: Client) -> None:
    assert logged_in.get("/privacy/my-data/erase/").status_code == 405
    assert Client().post("/privacy/my-data/erase/", {"password": PASSWORD}).status_code == 302
