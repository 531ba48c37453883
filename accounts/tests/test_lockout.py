"""Brute-force lockout (django-axes) as the site configures it: 5 failures per username or per
client address within 15 minutes, a French 429 page, cool-off, admin unlock."""

from __future__ import annotations

import datetime
import io
from typing import Any
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.hashers import Argon2idHasher
from accounts.tests.factories import PASSWORD, StudentFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def post_login(username: str, password: str, client: Client | None = None, **headers: Any) -> Any:
    return (client or Client()).post(
        LOGIN_URL, {"username": username, "password": password}, **headers
    )


def fail(times: int, username: str = "alice", **headers: Any) -> list[int]:
    return [post_login(username, "mauvais", **headers).status_code for _ in range(times)]


def test_five_failures_for_one_username_lock_it_even_with_the_right_password() -> None:
    UserFactory.create(username="alice")

    statuses = fail(5)
    locked = post_login("alice", PASSWORD)

    assert statuses == [401, 401, 401, 401, 429]
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Trop de tentatives" in html
    assert "même le bon mot de passe est refusé" in html
    assert "Réessayez dans 15 minutes." in html
    assert '<html lang="fr">' in html


def test_the_username_lock_holds_from_every_address() -> None:
    UserFactory.create(username="alice")
    for number in range(5):
        post_login("alice", "mauvais", REMOTE_ADDR=f"192.0.2.{number}")

    assert post_login("alice", PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_username() -> None:
    UserFactory.create(username="bob")
    for number in range(5):
        post_login(f"inconnu{number}", "mauvais", REMOTE_ADDR="203.0.113.9")

    assert post_login("bob", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert post_login("bob", PASSWORD, REMOTE_ADDR="203.0.113.10").status_code == 302


def test_four_failures_do_not_lock() -> None:
    UserFactory.create(username="alice")
    fail(4)

    assert post_login("alice", PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off() -> None:
    UserFactory.create(username="alice")
    fail(5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    assert post_login("alice", PASSWORD).status_code == 302


def test_attempts_during_the_lock_do_not_stretch_the_cool_off() -> None:
    UserFactory.create(username="alice")
    fail(5)
    last_counted = AccessAttempt.objects.get().attempt_time

    fail(3)

    attempt = AccessAttempt.objects.get()
    assert attempt.attempt_time == last_counted
    assert attempt.failures_since_start == 5


def test_an_admin_unlock_lets_the_user_in_again(admin_client: Client) -> None:
    alice = UserFactory.create(username="alice")
    fail(5)

    admin_client.post(
        "/admin/accounts/user/",
        {"action": "unlock", "_selected_action": [alice.pk]},
    )

    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert post_login("alice", PASSWORD).status_code == 302


@pytest.mark.argon2
def test_a_locked_out_attempt_computes_no_password_hash() -> None:
    UserFactory.create(username="alice")
    fail(5)

    with (
        mock.patch.object(Argon2idHasher, "verify") as verify,
        mock.patch.object(Argon2idHasher, "encode") as encode,
    ):
        response = post_login("alice", PASSWORD)

    assert response.status_code == 429
    verify.assert_not_called()
    encode.assert_not_called()


def test_a_birth_date_guess_is_locked_out_too() -> None:
    student = StudentFactory.create()
    fail(5, username=student.student_number)

    assert post_login(student.student_number, "01022005").status_code == 429


def test_a_successful_login_forgives_only_that_users_own_failures() -> None:
    UserFactory.create(username="mallory")
    UserFactory.create(username="victim")
    fail(4, username="victim")

    assert post_login("mallory", PASSWORD).status_code == 302

    # Mallory's login did not wipe the guesses on the victim: one more locks.
    assert post_login("victim", "mauvais").status_code == 429


def test_a_successful_login_resets_the_users_own_typos() -> None:
    UserFactory.create(username="alice")
    fail(4)
    post_login("alice", PASSWORD)

    assert fail(4) == [401, 401, 401, 401]


def test_behind_a_campus_nat_one_address_locks_every_student_until_axes_reset_ip() -> None:
    # Known trade-off (docs/accounts.md): students sharing one public address share its count.
    UserFactory.create(username="student-ok")
    for number in range(5):
        post_login(f"etudiant{number}", "mauvais", REMOTE_ADDR="203.0.113.9")
    assert post_login("student-ok", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429

    call_command("axes_reset_ip", "203.0.113.9", stdout=io.StringIO())

    assert post_login("student-ok", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 302


class TestBehindTheGateway:
    """One trusted proxy (the Istio gateway) appends the real client to X-Forwarded-For."""

    @pytest.fixture(autouse=True)
    def _one_hop(self, settings: Any) -> None:
        settings.TRUSTED_PROXY_HOPS = 1

    def test_forged_leftmost_entries_do_not_dodge_the_per_address_count(self) -> None:
        UserFactory.create(username="bob")
        for number in range(5):
            post_login(
                f"inconnu{number}",
                "mauvais",
                REMOTE_ADDR="10.0.0.5",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.9",
            )

        locked = post_login(
            "bob", PASSWORD, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9"
        )
        assert locked.status_code == 429

    @pytest.mark.parametrize(
        "forged", ["", "unknown", " , ", "999.1.1.1", "1.2.3.4, 5.6.7.8, 9.9.9.9"]
    )
    def test_a_forged_header_neither_resets_nor_dodges_the_count(self, forged: str) -> None:
        UserFactory.create(username="alice")
        for _ in range(4):
            post_login(
                "alice", "mauvais", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9"
            )

        fifth = post_login(
            "alice",
            "mauvais",
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"{forged}, 203.0.113.9" if forged else "203.0.113.9",
        )

        assert fifth.status_code == 429
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}

    def test_a_forged_envoy_external_address_neither_resets_nor_dodges_the_count(self) -> None:
        # A campus client on a private network is "internal" to Envoy, which then lets its
        # x-envoy-* headers through: a fresh forged address on every guess must not help.
        UserFactory.create(username="bob")
        statuses = [
            post_login(
                f"inconnu{number}",
                "mauvais",
                REMOTE_ADDR="10.0.0.5",
                HTTP_X_FORWARDED_FOR="203.0.113.9",
                HTTP_X_ENVOY_EXTERNAL_ADDRESS=f"198.51.100.{number}",
            ).status_code
            for number in range(5)
        ]

        locked = post_login(
            "bob",
            PASSWORD,
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            HTTP_X_ENVOY_EXTERNAL_ADDRESS="192.0.2.77",
        )

        assert statuses == [401, 401, 401, 401, 429]
        assert locked.status_code == 429
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}


def test_without_a_trusted_proxy_forwarding_headers_are_ignored() -> None:
    UserFactory.create(username="bob")
    for number in range(5):
        post_login(
            f"inconnu{number}",
            "mauvais",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{number}",
            HTTP_X_ENVOY_EXTERNAL_ADDRESS=f"198.51.100.{number}",
        )

    assert post_login("bob", PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429


def test_a_login_with_no_failure_to_forgive_makes_six_statements(
    django_assert_num_queries: Any,
) -> None:
    # The lockout count (one query), the user with its profile, last_login, the session's
    # INSERT in its transaction (a savepoint here, inside the test's transaction; BEGIN and
    # COMMIT in production). A regression guard: each ORM query is ~0.5 ms of a ~20 ms login.
    UserFactory.create(username="alice")
    client = Client()

    with django_assert_num_queries(6):
        assert post_login("alice", PASSWORD, client).status_code == 302


def test_failures_on_another_username_from_the_address_are_not_forgiven() -> None:
    UserFactory.create(username="alice")
    fail(3, username="bob")

    assert post_login("alice", PASSWORD).status_code == 302

    assert AccessAttempt.objects.filter(username="bob").count() == 1
