"""Admin: the roster import (upload, preview, confirm), the export and the reset action."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Student, User
from accounts.services import user_password_change
from accounts.tests.factories import StudentFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/accounts/student/import/"
CHOSEN_PASSWORD = "Colibri-mauve-du-Jura-77"
ROSTER = (
    "student_number;last_name;first_name;birth_date;email\n"
    "20260001;Durand;Léa;2005-02-01;\n"
    "20260002;Martin;Paul;31/12/2004;paul@etu.example.org\n"
).encode()


def upload(client: Client, data: bytes) -> object:
    return client.post(IMPORT_URL, {"roster": SimpleUploadedFile("classe.csv", data)})


def test_changelist_offers_the_import(admin_client: Client) -> None:
    html = admin_client.get("/admin/accounts/student/").content.decode()

    assert IMPORT_URL in html
    assert "Importer des étudiants" in html


def test_import_page_needs_an_admin(client: Client) -> None:
    client.force_login(UserFactory.create(username="eleve"))

    response = client.get(IMPORT_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_upload_shows_a_preview_and_writes_nothing(admin_client: Client) -> None:
    response = upload(admin_client, ROSTER)

    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "2 à créer, 0 à mettre à jour, 0 inchangé(s)." in html
    assert "Paul" in html
    assert 'name="confirm"' in html
    assert not Student.objects.exists()


def test_confirm_imports_everything_and_returns_to_the_list(admin_client: Client) -> None:
    response = admin_client.post(
        IMPORT_URL,
        {"confirm": "1", "roster_data": base64.b64encode(ROSTER).decode()},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/student/"
    assert Student.objects.count() == 2
    messages = admin_client.get("/admin/accounts/student/").content.decode()
    assert "Import terminé : 2 créé(s), 0 mis à jour, 0 inchangé(s)." in messages


def test_upload_with_errors_lists_row_and_field_and_offers_no_confirm(
    admin_client: Client,
) -> None:
    response = upload(admin_client, ROSTER + b"20260001;Doublon;X;2005-02-30;\n")

    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "<td>4</td><td>birth_date</td>" in html
    assert "<td>4</td><td>student_number</td>" in html
    assert 'name="confirm"' not in html
    assert not Student.objects.exists()


def test_confirm_revalidates_and_saves_nothing_when_the_data_became_invalid(
    admin_client: Client,
) -> None:
    UserFactory.create(username="20260002")

    response = admin_client.post(
        IMPORT_URL, {"confirm": "1", "roster_data": base64.b64encode(ROSTER).decode()}
    )

    assert response.status_code == 400
    assert "pas un étudiant" in response.content.decode()
    assert not Student.objects.exists()


def test_confirm_with_garbled_data_is_refused(admin_client: Client) -> None:
    response = admin_client.post(IMPORT_URL, {"confirm": "1", "roster_data": "%%%"})

    assert response.status_code == 400
    assert not Student.objects.exists()


def test_upload_without_a_file_is_refused(admin_client: Client) -> None:
    response = admin_client.post(IMPORT_URL, {})

    assert response.status_code == 400


def test_export_action_downloads_a_csv_that_reimports_unchanged(admin_client: Client) -> None:
    StudentFactory.create(student_number="20260001", last_name="=HYPERLINK()", email="a@b.example")
    StudentFactory.create(student_number="20260002")

    response = admin_client.post(
        "/admin/accounts/student/",
        {
            "action": "export_csv",
            "_selected_action": list(Student.objects.values_list("pk", flat=True)),
        },
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="etudiants.csv"'
    content = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0] == ["student_number", "last_name", "first_name", "birth_date", "email"]
    assert rows[1] == ["20260001", "'=HYPERLINK()", "Léa", "2005-02-01", "a@b.example"]
    assert "password" not in content


def test_reset_action_puts_students_back_in_first_login_state(admin_client: Client) -> None:
    student = StudentFactory.create(must_change_password=False)
    student.user.set_password("Mot-de-passe-choisi-2026")
    student.user.save()

    admin_client.post(
        "/admin/accounts/student/",
        {"action": "reset_first_login", "_selected_action": [student.pk]},
    )

    student.refresh_from_db()
    user = User.objects.get(pk=student.user_id)
    assert student.must_change_password
    assert not user.has_usable_password()


def test_preview_refuses_a_well_known_username_with_a_french_message_on_its_row(
    admin_client: Client,
) -> None:
    response = upload(admin_client, ROSTER + b"Root;Admin;Eve;2005-02-01;\n")

    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "<td>4</td><td>student_number</td>" in html
    assert "« Root » est un nom de compte réservé, pas un numéro d&#x27;étudiant." in html
    assert 'name="confirm"' not in html
    assert not Student.objects.exists()


def test_student_change_page_renders(admin_client: Client) -> None:
    student = StudentFactory.create()

    assert admin_client.get(f"/admin/accounts/student/{student.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/accounts/user/{student.user_id}/change/").status_code == 200


def test_the_admin_shows_only_a_masked_summary_of_a_students_chosen_password(
    admin_client: Client,
) -> None:
    student = StudentFactory.create()
    user_password_change(user=student.user, password=CHOSEN_PASSWORD)
    student.user.refresh_from_db()
    _algorithm, _params, salt, digest = student.user.password.rsplit("$", 3)

    pages = [
        admin_client.get(f"/admin/accounts/user/{student.user_id}/change/").content.decode(),
        admin_client.get(f"/admin/accounts/student/{student.pk}/change/").content.decode(),
    ]

    user_page = pages[0]
    assert "<bdi>argon2id</bdi>" in user_page
    assert f"<bdi>{digest[:6]}{'*' * (len(digest) - 6)}</bdi>" in user_page
    for html in pages:
        assert CHOSEN_PASSWORD not in html
        assert student.user.password not in html
        assert salt not in html
        assert digest not in html
        assert not re.search(r'<input[^>]*name="password', html)


def test_the_admin_says_no_password_is_set_before_the_first_login(admin_client: Client) -> None:
    student = StudentFactory.create()

    html = admin_client.get(f"/admin/accounts/user/{student.user_id}/change/").content.decode()

    assert "Aucun mot de passe défini." in html
    assert not re.search(r'<input[^>]*name="password', html)


def test_adding_a_student_goes_through_the_import(admin_client: Client) -> None:
    response = admin_client.get("/admin/accounts/student/add/")

    assert response.status_code == 302
    assert response["Location"] == IMPORT_URL


def test_editing_a_student_keeps_the_user_names_in_step(admin_client: Client) -> None:
    student = StudentFactory.create()

    response = admin_client.post(
        f"/admin/accounts/student/{student.pk}/change/",
        {
            "last_name": "Dupont",
            "first_name": "Zoé",
            "birth_date": "2005-03-04",
            "email": "zoe@etu.example.org",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(pk=student.user_id)
    assert user.get_full_name() == "Zoé Dupont"
    assert user.email == "zoe@etu.example.org"
    assert user.username == student.student_number
