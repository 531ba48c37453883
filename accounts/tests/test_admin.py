"""Admin: the roster import (upload, preview, confirm), the export and the reset action."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.models import Student, User
from accounts.services import student_import_preview, user_password_change
from accounts.tests.factories import StudentFactory, UserFactory
from accounts.tests.roster.builders import FRENCH_HEADER, xlsx_file

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


def confirm_token(html: str) -> str:
    match = re.search(r'name="roster_rows" value="([^"]+)"', html)
    assert match, "no confirm form"
    return match.group(1)


def test_confirm_imports_exactly_the_previewed_rows_and_returns_to_the_list(
    admin_client: Client,
) -> None:
    token = confirm_token(upload(admin_client, ROSTER).content.decode())  # type: ignore[attr-defined]

    response = admin_client.post(IMPORT_URL, {"confirm": "1", "roster_rows": token})

    assert response.status_code == 302
    assert response["Location"] == "/admin/accounts/student/"
    assert Student.objects.count() == 2
    messages = admin_client.get("/admin/accounts/student/").content.decode()
    assert "Import terminé : 2 créé(s), 0 mis à jour, 0 inchangé(s)." in messages


def test_upload_with_errors_lists_line_and_column_and_offers_no_confirm(
    admin_client: Client,
) -> None:
    response = upload(admin_client, ROSTER + b"20260001;Doublon;X;2005-02-30;\n")

    html = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "<td>4</td><td>D « birth_date »</td>" in html
    assert "<td>4</td><td>A « student_number »</td>" in html
    assert 'name="confirm"' not in html
    assert not Student.objects.exists()


def test_confirm_revalidates_and_saves_nothing_when_the_data_became_invalid(
    admin_client: Client,
) -> None:
    token = confirm_token(upload(admin_client, ROSTER).content.decode())  # type: ignore[attr-defined]
    UserFactory.create(username="20260002")

    response = admin_client.post(IMPORT_URL, {"confirm": "1", "roster_rows": token})

    assert response.status_code == 400
    assert "pas un étudiant" in response.content.decode()
    assert not Student.objects.exists()


@pytest.mark.parametrize("token", ["%%%", "W1sxLCIyMDI2MDAwMSJdXQ:forged:signature"])
def test_confirm_with_garbled_or_forged_rows_is_refused(admin_client: Client, token: str) -> None:
    response = admin_client.post(IMPORT_URL, {"confirm": "1", "roster_rows": token})

    assert response.status_code == 400
    assert "Données d’import illisibles : recommencez." in response.content.decode()
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
    assert rows[0] == [
        "N° étudiant",
        "Nom",
        "Prénom",
        "Date de naissance",
        "E-mail",
        "Première connexion faite",
        "Dernière connexion",
    ]
    assert rows[1] == ["20260001", "'=HYPERLINK()", "Léa", "01/02/2005", "a@b.example", "non", ""]
    assert "password" not in content
    preview = student_import_preview(data=response.content)
    assert (len(preview.unchanged), preview.errors) == (1, [])
    assert preview.ignored == ["F « Première connexion faite »", "G « Dernière connexion »"]


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
    assert "<td>4</td><td>A « student_number »</td>" in html
    assert "« Root » est un nom de compte réservé, pas un numéro d’étudiant." in html
    assert 'name="confirm"' not in html
    assert not Student.objects.exists()


def test_student_change_page_renders(admin_client: Client) -> None:
    student = StudentFactory.create()

    assert admin_client.get(f"/admin/accounts/student/{student.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/accounts/user/{student.user_id}/change/").status_code == 200


@pytest.mark.argon2
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


def test_the_import_page_has_the_admin_breadcrumbs_and_offers_both_templates(
    admin_client: Client,
) -> None:
    html = admin_client.get(IMPORT_URL).content.decode()

    # Django's own breadcrumbs bar, as on every other admin page.
    assert (
        '<ol class="breadcrumbs">\n<li><a href="/admin/">Accueil</a></li>\n'
        '<li><a href="/admin/accounts/">Comptes</a></li>\n'
        '<li><a href="/admin/accounts/student/">Étudiants</a></li>\n'
        '<li aria-current="page">Importer</li>\n</ol>'
    ) in html
    assert 'href="/static/accounts/modele-liste-etudiants.xlsx"' in html
    assert 'href="/static/accounts/modele-liste-etudiants.csv"' in html


@pytest.mark.parametrize("name", ["modele-liste-etudiants.csv", "modele-liste-etudiants.xlsx"])
def test_the_templates_have_french_headers_and_one_example_row_that_imports(name: str) -> None:
    data = (settings.BASE_DIR / "static" / "accounts" / name).read_bytes()

    preview = student_import_preview(data=data)

    assert preview.errors == []
    assert [header for _letter, header, _field in preview.columns] == [
        "N° étudiant",
        "Nom",
        "Prénom",
        "Date de naissance",
        "E-mail",
    ]
    assert [(row.student_number, row.last_name) for row in preview.to_create] == [
        ("21900401", "Cœurdacier")
    ]


def test_an_xlsx_preview_shows_human_labels_dates_as_dd_mm_yyyy_and_ignored_columns(
    admin_client: Client,
) -> None:
    data = xlsx_file(
        [
            [*FRENCH_HEADER, "Code étape", "Régime"],
            [21900401, "Cœurdacier", "Léa", datetime.date(2005, 3, 14), None, "L1MAT", "FI"],
        ]
    )

    response = admin_client.post(
        IMPORT_URL, {"roster": SimpleUploadedFile("export.xlsx", data), "encoding": ""}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Classeur Excel (.xlsx), première feuille « Feuil1 »" in html
    assert (
        '<th scope="col">Ligne</th><th scope="col">N° étudiant</th><th scope="col">Nom</th>'
        '<th scope="col">Prénom</th><th scope="col">Date de naissance</th>'
        '<th scope="col">E-mail</th>'
    ) in html
    assert "<td>2</td><td>21900401</td><td>Cœurdacier</td><td>Léa</td><td>14/03/2005</td>" in html
    assert "Colonnes ignorées (non importées) : F « Code étape », G « Régime »" in html
    assert "21900401.0" not in html


def test_the_encoding_choice_of_the_form_is_used(admin_client: Client) -> None:
    data = "N° étudiant;Nom;Prénom;Date de naissance\n1;Lefèvre;Zoé;14/03/2005\n".encode("cp1252")

    detected = admin_client.post(IMPORT_URL, {"roster": SimpleUploadedFile("l.csv", data)})
    forced = admin_client.post(
        IMPORT_URL, {"roster": SimpleUploadedFile("l.csv", data), "encoding": "utf-8"}
    )

    assert "<td>Lefèvre</td>" in detected.content.decode()
    assert "CSV, encodage Windows-1252, séparateur « ; »" in detected.content.decode()
    assert forced.status_code == 400
    assert "ce fichier n’est pas encodé en UTF-8" in forced.content.decode()


def test_a_file_over_five_megabytes_is_refused_before_it_is_read(admin_client: Client) -> None:
    response = upload(admin_client, b"x" * (5 * 1024 * 1024 + 1))

    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Fichier trop volumineux : 5 Mo au plus." in response.content.decode()  # type: ignore[attr-defined]


def test_the_student_list_shows_and_filters_first_login_and_last_login(
    admin_client: Client,
) -> None:
    done = StudentFactory.create(
        student_number="21900401", last_name="Fait", must_change_password=False
    )
    StudentFactory.create(student_number="21900402", last_name="Manquant")
    User.objects.filter(pk=done.user_id).update(last_login=timezone.now())

    everyone = admin_client.get("/admin/accounts/student/").content.decode()
    missing = admin_client.get("/admin/accounts/student/?premiere_connexion=non").content.decode()
    never = admin_client.get(
        "/admin/accounts/student/?user__last_login__isnull=True"
    ).content.decode()

    assert "1re connexion" in everyone
    assert "Dernière connexion" in everyone
    assert "jamais" in everyone
    assert "Manquant" in missing and "Fait" not in missing
    assert "Manquant" in never and "Fait" not in never


def test_export_xlsx_action_downloads_the_list_with_the_logins(admin_client: Client) -> None:
    StudentFactory.create(student_number="21900401", must_change_password=False)

    response = admin_client.post(
        "/admin/accounts/student/",
        {
            "action": "export_xlsx",
            "_selected_action": list(Student.objects.values_list("pk", flat=True)),
        },
    )

    assert response["Content-Disposition"] == 'attachment; filename="etudiants.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]][-2:] == [
        "Première connexion faite",
        "Dernière connexion",
    ]
    assert [cell.value for cell in sheet[2]][:4] == [
        "21900401",
        "Durand",
        "Léa",
        datetime.datetime(2005, 2, 1),
    ]
    assert student_import_preview(data=response.content).unchanged


def test_an_english_reader_gets_the_import_page_and_its_errors_in_english(
    admin_client: Client,
) -> None:
    admin_client.cookies["django_language"] = "en"
    data = "NUMERO ETUDIANT;Nom;Prenom;Date de Naissance\r\n1;Lefèvre;Zoé;14/03/05\r\n"

    # The middleware activates English in this thread: put French back for the next tests.
    with translation.override(settings.LANGUAGE_CODE):
        response = admin_client.post(
            IMPORT_URL, {"roster": SimpleUploadedFile("l.csv", data.encode("cp1252"))}
        )

    html = response.content.decode()
    assert "CSV, Windows-1252 encoding, separator “;”" in html
    assert "<td>2</td><td>D “Date de Naissance”</td>" in html
    assert (
        "“14/03/05”: the year must have four digits. Accepted formats: DD/MM/YYYY, D/M/YYYY, "
        "DD.MM.YYYY, DD-MM-YYYY, YYYY-MM-DD."
    ) in html


def test_the_templates_are_served_with_their_spreadsheet_types() -> None:
    from whitenoise.media_types import MediaTypes

    types = MediaTypes(extra_types=settings.WHITENOISE_MIMETYPES)

    assert types.get_type("modele-liste-etudiants.csv") == "text/csv; charset=utf-8"
    assert types.get_type("modele-liste-etudiants.xlsx") == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
