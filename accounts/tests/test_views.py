from __future__ import annotations

import datetime
import logging
import time
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.hashers import Argon2idHasher
from accounts.models import User
from accounts.tests.factories import PASSWORD, StudentFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
NEW_PASSWORD = "Tortue-géante-des-Galápagos-42"
LONG_PASSWORD = ("Une-phrase-de-passe-très-longue-" * 4)[:100]


def post_login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(LOGIN_URL, {"username": username, "password": password}, **extra)


# --- Registration ----------------------------------------------------------------------


def test_register_creates_the_user_logs_in_and_goes_home(client: Client) -> None:
    response = client.post(
        "/accounts/register/",
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert User.objects.get(username="alice").check_password(NEW_PASSWORD)
    assert client.get("/home/").status_code == 200


def test_register_with_a_taken_username_returns_409_with_a_message(client: Client) -> None:
    UserFactory.create(username="alice")

    response = client.post(
        "/accounts/register/",
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 409
    assert "existe déjà" in response.content.decode()
    assert User.objects.filter(username="alice").count() == 1


def test_register_with_a_username_differing_only_in_case_returns_409(client: Client) -> None:
    UserFactory.create(username="alice")

    response = client.post(
        "/accounts/register/",
        {"username": "ALICE", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("username", "password1", "password2"),
    [
        ("", NEW_PASSWORD, NEW_PASSWORD),
        ("x" * 151, NEW_PASSWORD, NEW_PASSWORD),
        ("bob", "", ""),
        ("bob", NEW_PASSWORD, NEW_PASSWORD + "x"),
        ("bob", "court", "court"),
        ("bob", "password123", "password123"),
    ],
    ids=["empty-username", "151-char-username", "empty-password", "mismatch", "short", "common"],
)
def test_register_with_bad_input_returns_400_and_creates_nothing(
    client: Client, username: str, password1: str, password2: str
) -> None:
    response = client.post(
        "/accounts/register/",
        {"username": username, "password1": password1, "password2": password2},
    )

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password",
    [LONG_PASSWORD, "Пароль-ελληνικά-漢字-😀"],
    ids=["100-chars", "non-ascii"],
)
def test_long_and_non_ascii_passwords_work_exactly_as_typed(client: Client, password: str) -> None:
    client.post(
        "/accounts/register/", {"username": "alice", "password1": password, "password2": password}
    )
    client.post("/accounts/logout/")

    assert post_login(client, "alice", password).status_code == 302
    assert post_login(Client(), "alice", password[:-1]).status_code == 401


def test_closed_registration_says_so_and_a_post_creates_nothing(
    client: Client, settings: Any
) -> None:
    settings.ACCOUNTS_REGISTRATION_OPEN = False

    page = client.get("/accounts/register/")
    response = client.post(
        "/accounts/register/",
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert page.status_code == 200
    assert "Inscriptions fermées" in page.content.decode()
    assert response.status_code == 403
    assert not User.objects.exists()
    assert "/accounts/register/" not in client.get(LOGIN_URL).content.decode()


def test_a_post_without_csrf_token_is_refused_with_403() -> None:
    client = Client(enforce_csrf_checks=True)

    register = client.post(
        "/accounts/register/",
        {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    login = post_login(client, "alice", NEW_PASSWORD)

    assert register.status_code == 403
    assert login.status_code == 403
    assert not User.objects.exists()


def test_every_form_field_has_a_label(client: Client) -> None:
    for url in ("/accounts/register/", LOGIN_URL):
        html = client.get(url).content.decode()
        for field in ("username", "password"):
            if url == LOGIN_URL or field == "username":
                assert f'<label for="id_{field}"' in html


# --- Login -----------------------------------------------------------------------------


def test_login_goes_home_and_issues_a_new_session_id(client: Client) -> None:
    UserFactory.create(username="alice")
    client.get(LOGIN_URL)
    client.session.save()
    before = client.session.session_key

    response = post_login(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_login_with_wrong_password_or_unknown_user_returns_401_with_the_same_message(
    client: Client,
) -> None:
    UserFactory.create(username="alice")

    wrong_password = post_login(client, "alice", "pas-le-bon")
    unknown_user = post_login(client, "personne", "pas-le-bon")

    assert wrong_password.status_code == unknown_user.status_code == 401
    message = "Identifiant ou mot de passe incorrect."
    assert message in wrong_password.content.decode()
    assert message in unknown_user.content.decode()


@pytest.mark.argon2
@pytest.mark.parametrize(
    "username",
    ["alice", "personne", "202600001"],
    ids=["wrong-password", "unknown-user", "student-before-first-login"],
)
def test_a_failed_login_runs_the_password_hasher_exactly_once_whoever_the_user(
    client: Client, username: str
) -> None:
    # Similar timing for every failure, so the answer's delay tells no one which accounts
    # exist: Django hashes a dummy password for an unknown user or an unusable password.
    UserFactory.create(username="alice")
    StudentFactory.create(student_number="202600001")
    hashes: list[str] = []

    def counted(name: str) -> Any:
        original = getattr(Argon2idHasher, name)

        def spy(self: Argon2idHasher, *args: Any) -> Any:
            hashes.append(name)
            return original(self, *args)

        return spy

    with (
        mock.patch.object(Argon2idHasher, "encode", counted("encode")),
        mock.patch.object(Argon2idHasher, "verify", counted("verify")),
    ):
        response = post_login(client, username, "pas-le-bon")

    assert response.status_code == 401
    assert len(hashes) == 1, hashes


@pytest.mark.parametrize(
    ("username", "password"),
    [("", PASSWORD), ("alice", ""), ("a" * 151, PASSWORD)],
    ids=["empty-username", "empty-password", "151-char-username"],
)
def test_login_with_bad_input_returns_401_with_a_message(
    client: Client, username: str, password: str
) -> None:
    UserFactory.create(username="alice")

    response = post_login(client, username, password)

    assert response.status_code == 401
    assert 'class="errorlist' in response.content.decode()


def test_login_follows_next_on_this_site(client: Client) -> None:
    UserFactory.create(username="alice")

    response = client.post(
        LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": "/codegen/"}
    )

    assert response["Location"] == "/codegen/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_login_ignores_next_pointing_off_site(client: Client, next_url: str) -> None:
    UserFactory.create(username="alice")

    response = client.post(LOGIN_URL, {"username": "alice", "password": PASSWORD, "next": next_url})

    assert response["Location"] == reverse("home")


def test_every_login_success_and_failure_is_logged_without_the_password(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    UserFactory.create(username="alice")

    with caplog.at_level(logging.INFO, logger="accounts.login"):
        post_login(client, "alice", "mauvais-secret-123")
        post_login(client, "alice", PASSWORD)

    records = [r.getMessage() for r in caplog.records if r.name == "accounts.login"]
    assert any("login failed username=alice" in m for m in records)
    assert any("login succeeded username=alice" in m for m in records)
    assert not any("mauvais-secret-123" in m or PASSWORD in m for m in records)


@pytest.mark.argon2
def test_an_old_pbkdf2_hash_is_upgraded_to_argon2id_on_next_login(client: Client) -> None:
    user = UserFactory.create(username="alice")
    user.password = make_pbkdf2(PASSWORD)
    user.save()

    post_login(client, "alice", PASSWORD)

    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.argon2
def test_an_argon2_hash_with_django_defaults_is_upgraded_on_next_login(client: Client) -> None:
    user = UserFactory.create(username="alice")
    user.password = Argon2PasswordHasher().encode(PASSWORD, "saltsaltsaltsalt")
    user.save()
    assert "m=102400" in user.password

    post_login(client, "alice", PASSWORD)

    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password


def make_pbkdf2(password: str) -> str:
    return make_password(password, hasher="pbkdf2_sha256")


# --- Logout, sessions ------------------------------------------------------------------


def test_logout_is_post_only(client: Client) -> None:
    UserFactory.create(username="alice")
    client.force_login(User.objects.get(username="alice"))

    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/home/").status_code == 200


def test_logout_ends_the_session_on_the_server_so_the_old_cookie_fails(client: Client) -> None:
    UserFactory.create(username="alice")
    post_login(client, "alice", PASSWORD)
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert not Session.objects.filter(session_key=old_cookie).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert replay.get("/home/").status_code == 302


def test_home_requires_login_and_keeps_next(client: Client) -> None:
    response = client.get("/home/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/home/"


def test_root_redirects_to_login_or_home(client: Client) -> None:
    assert client.get("/")["Location"] == reverse("accounts:login")
    client.force_login(UserFactory.create(username="alice"))
    assert client.get("/")["Location"] == reverse("home")


def test_home_greets_the_user_by_name(client: Client) -> None:
    client.force_login(
        UserFactory.create(username="alice", first_name="Alice", last_name="Liddell")
    )

    assert "Alice Liddell" in client.get("/home/").content.decode()


def test_session_cookie_is_secure_httponly_and_lax_when_debug_is_off(client: Client) -> None:
    UserFactory.create(username="alice")

    response = post_login(client, "alice", PASSWORD)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["secure"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_session_ends_after_the_absolute_lifetime_even_when_active(
    client: Client, settings: Any
) -> None:
    UserFactory.create(username="alice")
    post_login(client, "alice", PASSWORD)
    session = client.session
    session["accounts_login_at"] -= settings.SESSION_MAX_AGE_S + 1
    session.save()

    response = client.get("/home/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert client.get("/home/").status_code == 302


def test_a_json_api_call_after_the_absolute_lifetime_is_a_401(
    client: Client, settings: Any
) -> None:
    UserFactory.create(username="alice")
    post_login(client, "alice", PASSWORD)
    session = client.session
    session["accounts_login_at"] -= settings.SESSION_MAX_AGE_S + 1
    session.save()

    response = client.post(
        "/codegen/send/",
        data={"message": "Trier une liste"},
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 401
    assert "reconnectez-vous" in response.json()["error"]


def test_session_within_the_absolute_lifetime_stays_open(client: Client) -> None:
    UserFactory.create(username="alice")
    post_login(client, "alice", PASSWORD)

    assert client.get("/home/").status_code == 200


def test_inactivity_timeout_is_the_session_cookie_age_renewed_at_most_once_a_minute() -> None:
    assert settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    assert settings.SESSION_RENEW_AFTER_S == 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_request_within_the_minute_writes_no_session_but_a_later_one_renews_it(
    client: Client,
) -> None:
    UserFactory.create(username="alice")
    post_login(client, "alice", PASSWORD)
    client.get("/home/")
    session = Session.objects.get()
    first_expiry = session.expire_date

    with mock.patch("accounts.middleware.time.time", return_value=time.time() + 30):
        response = client.get("/home/")
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert Session.objects.get().expire_date == first_expiry

    with mock.patch("accounts.middleware.time.time", return_value=time.time() + 90):
        response = client.get("/home/")
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert Session.objects.get().expire_date > first_expiry


# --- Password change -------------------------------------------------------------------


def test_a_login_writes_its_session_once_under_a_new_key(client: Client) -> None:
    UserFactory.create(username="alice")
    client.get("/accounts/login/")
    session = client.session
    session["before_login"] = True
    session.save()
    anonymous_key = session.session_key

    with CaptureQueriesContext(connection) as queries:
        post_login(client, "alice", PASSWORD)

    session_writes = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith(('INSERT INTO "django_session"', 'UPDATE "django_session"'))
    ]
    assert len(session_writes) == 1 and session_writes[0].startswith("INSERT")
    [stored] = Session.objects.all()
    assert stored.session_key != anonymous_key
    assert stored.get_decoded()["before_login"] is True
    assert client.get("/home/").status_code == 200


def test_a_logged_in_page_reads_the_session_and_the_user_once_each(client: Client) -> None:
    user = UserFactory.create(username="alice")
    client.force_login(user)
    client.get("/home/")  # the session's expiry is renewed here, at most once a minute

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/home/")

    assert response.status_code == 200 and response.context["user"] == user
    reads = [query["sql"] for query in queries.captured_queries]
    assert sum('FROM "django_session"' in sql for sql in reads) == 1
    assert sum('FROM "accounts_user"' in sql for sql in reads) == 1
    assert not any(sql.startswith(("UPDATE", "INSERT")) for sql in reads)


def test_a_session_past_its_expiry_date_in_the_database_is_not_read(client: Client) -> None:
    client.force_login(UserFactory.create(username="alice"))
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/home/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_deactivated_user_is_logged_out_on_the_next_request(client: Client) -> None:
    user = UserFactory.create(username="alice")
    client.force_login(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = client.get("/home/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_password_change_asks_the_current_password(client: Client) -> None:
    client.force_login(UserFactory.create(username="alice"))

    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "pas-le-bon",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 400
    assert "Le mot de passe actuel est incorrect." in response.content.decode()
    assert User.objects.get(username="alice").check_password(PASSWORD)


def test_password_change_keeps_this_session_and_ends_the_others(client: Client) -> None:
    UserFactory.create(username="alice")
    other_device = Client()
    post_login(other_device, "alice", PASSWORD)
    post_login(client, "alice", PASSWORD)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert client.get("/home/").status_code == 200
    assert other_device.get("/home/").status_code == 302
    assert post_login(Client(), "alice", PASSWORD).status_code == 401
    assert post_login(Client(), "alice", NEW_PASSWORD).status_code == 302


def test_password_change_requires_login(client: Client) -> None:
    assert client.get("/accounts/password_change/").status_code == 302


def test_registration_beyond_the_hourly_limit_per_address_is_a_429(
    client: Client, settings: Any
) -> None:
    settings.ACCOUNTS_REGISTRATIONS_PER_HOUR = 3
    UserFactory.create(username="alice")
    form = {"username": "alice", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    statuses = [client.post("/accounts/register/", form).status_code for _ in range(4)]
    elsewhere = client.post("/accounts/register/", form, REMOTE_ADDR="192.0.2.7")

    assert statuses == [409, 409, 409, 429]
    assert elsewhere.status_code == 409


def test_no_registration_limit_when_it_is_zero(client: Client, settings: Any) -> None:
    settings.ACCOUNTS_REGISTRATIONS_PER_HOUR = 0
    form = {"username": "", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    assert {client.post("/accounts/register/", form).status_code for _ in range(25)} == {400}


def test_wrong_current_passwords_lock_the_password_change_form_like_the_login(
    client: Client,
) -> None:
    client.force_login(UserFactory.create(username="alice"))
    guess = {"old_password": "pas-le-bon", "new_password1": NEW_PASSWORD}
    guess["new_password2"] = NEW_PASSWORD

    statuses = [client.post("/accounts/password_change/", guess).status_code for _ in range(5)]
    right = client.post("/accounts/password_change/", {**guess, "old_password": PASSWORD})

    assert statuses == [400, 400, 400, 400, 429]
    assert right.status_code == 429
    assert User.objects.get(username="alice").check_password(PASSWORD)
    assert post_login(Client(), "alice", PASSWORD).status_code == 429
