"""First login of an imported student: student number + birth date, then a forced change."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client

from accounts.services import student_reset_first_login, student_update
from accounts.tests.factories import StudentFactory

pytestmark = pytest.mark.django_db

BIRTH_DATE_PASSWORD = "01022005"  # StudentFactory's 2005-02-01 as DDMMYYYY
NEW_PASSWORD = "Château-de-sable-2026"


def post_login(client: Client, username: str, password: str) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def change_password(client: Client, old: str, new: str = NEW_PASSWORD) -> Any:
    return client.post(
        "/accounts/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


def test_first_login_with_the_birth_date_leads_to_the_forced_password_change(
    client: Client,
) -> None:
    student = StudentFactory.create()

    response = post_login(client, student.student_number, BIRTH_DATE_PASSWORD)
    home = client.get("/home/")

    assert response.status_code == 302
    assert home.status_code == 302
    assert home["Location"] == "/accounts/password_change/"


@pytest.mark.parametrize("path", ["/home/", "/codegen/", "/ocr/", "/", "/admin/"])
def test_every_page_redirects_to_the_password_change_until_it_is_done(
    client: Client, path: str
) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/"


def test_a_json_api_call_before_the_forced_change_is_a_403_that_says_what_to_do(
    client: Client,
) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    response = client.post(
        "/codegen/send/",
        data={"message": "Trier une liste"},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 403
    assert response.json()["password_change_url"] == "/accounts/password_change/"
    assert "mot de passe provisoire" in response.json()["error"]


def test_the_forced_change_page_and_logout_stay_reachable(client: Client) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    page = client.get("/accounts/password_change/")

    assert page.status_code == 200
    assert "date de naissance" in page.content.decode()
    assert client.post("/accounts/logout/").status_code == 302


def test_the_forced_change_still_asks_the_current_password(client: Client) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    response = change_password(client, old="31122004")

    assert response.status_code == 400
    assert "Le mot de passe actuel est incorrect." in response.content.decode()
    student.refresh_from_db()
    assert student.must_change_password


def test_after_the_change_only_the_new_password_works(client: Client) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    response = change_password(client, old=BIRTH_DATE_PASSWORD)

    assert response.status_code == 302
    assert client.get("/home/").status_code == 200
    student.refresh_from_db()
    assert not student.must_change_password
    assert post_login(Client(), student.student_number, BIRTH_DATE_PASSWORD).status_code == 401
    assert post_login(Client(), student.student_number, NEW_PASSWORD).status_code == 302


def test_the_birth_date_cannot_become_the_new_password(client: Client) -> None:
    student = StudentFactory.create()
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)

    response = change_password(client, old=BIRTH_DATE_PASSWORD, new=BIRTH_DATE_PASSWORD)

    assert response.status_code == 400


@pytest.mark.parametrize("password", ["1022005", "010220050", "2005-02-01", "01/02/2005", ""])
def test_other_forms_of_the_birth_date_are_refused(client: Client, password: str) -> None:
    student = StudentFactory.create()

    assert post_login(client, student.student_number, password).status_code == 401


def test_the_birth_date_does_not_work_once_must_change_password_is_cleared(
    client: Client,
) -> None:
    student = StudentFactory.create(must_change_password=False)

    assert post_login(client, student.student_number, BIRTH_DATE_PASSWORD).status_code == 401


def test_the_birth_date_does_not_work_for_an_inactive_account(client: Client) -> None:
    student = StudentFactory.create()
    student.user.is_active = False
    student.user.save()

    assert post_login(client, student.student_number, BIRTH_DATE_PASSWORD).status_code == 401


def test_a_non_ascii_guess_is_refused_without_error(client: Client) -> None:
    student = StudentFactory.create()

    assert post_login(client, student.student_number, "0102200é").status_code == 401


def test_reset_to_first_login_with_the_birth_date_entered_again_ends_open_sessions(
    client: Client,
) -> None:
    student = StudentFactory.create()
    birth_date = student.birth_date
    post_login(client, student.student_number, BIRTH_DATE_PASSWORD)
    change_password(client, old=BIRTH_DATE_PASSWORD)
    student.refresh_from_db()
    # Minimisation (docs/data.md): the birth date went with the first password.
    assert student.birth_date is None

    student_reset_first_login(students=[student])
    student.refresh_from_db()
    student.birth_date = birth_date  # the teacher enters it again (admin, or a re-import)
    student_update(student=student)

    assert client.get("/home/").status_code == 302
    assert "login" in client.get("/home/")["Location"]
    again = Client()
    assert post_login(again, student.student_number, NEW_PASSWORD).status_code == 401
    assert post_login(again, student.student_number, BIRTH_DATE_PASSWORD).status_code == 302
    assert again.get("/home/")["Location"] == "/accounts/password_change/"


def test_a_wrong_birth_date_costs_a_dummy_hash_like_any_wrong_password(client: Client) -> None:
    # Otherwise a fast refusal would tell which accounts are still waiting for a first login.
    import accounts.backends

    student = StudentFactory.create()
    with mock.patch.object(
        accounts.backends,
        "check_password_with_timing_attack_mitigation",
        wraps=accounts.backends.check_password_with_timing_attack_mitigation,
    ) as check:
        response = post_login(client, student.student_number, "31122004")

    assert response.status_code == 401
    check.assert_called_once()


def test_a_student_given_a_password_by_staff_before_changing_it_is_still_forced_to(
    client: Client,
) -> None:
    student = StudentFactory.create()
    student.user.set_password(NEW_PASSWORD)
    student.user.save()

    response = post_login(client, student.student_number, NEW_PASSWORD)

    assert response.status_code == 302
    assert client.get("/home/")["Location"] == "/accounts/password_change/"
