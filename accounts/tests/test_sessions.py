from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.sessions import SessionStore
from accounts.tests.factories import PASSWORD, UserFactory

# Most tests run inside a transaction (pytest-django's `db`); these need autocommit, the
# state of a request in production, hence `transaction=True`.
autocommit = pytest.mark.django_db(transaction=True)


def keys_drawn(monkeypatch: Any, *keys: str) -> None:
    """The next new session keys, in order."""
    drawn = iter(keys)
    monkeypatch.setattr(SessionStore, "_get_new_session_key", lambda self: next(drawn))


@autocommit
def test_a_login_writes_its_session_without_a_transaction_around_it(client: Client) -> None:
    UserFactory.create(username="alice")
    client.get("/accounts/login/")

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    statements = [query["sql"] for query in queries.captured_queries]
    assert sum(sql.startswith('INSERT INTO "django_session"') for sql in statements) == 1
    assert not any(sql in ("BEGIN", "COMMIT") for sql in statements)
    assert client.get("/home/").status_code == 200


@autocommit
def test_a_key_already_taken_is_drawn_again_in_autocommit(monkeypatch: Any) -> None:
    taken = SessionStore()
    taken["owner"] = "first"
    taken.create()
    assert taken.session_key is not None
    keys_drawn(monkeypatch, taken.session_key, "k" * 32)

    session = SessionStore()
    session["owner"] = "second"
    session.create()

    assert session.session_key == "k" * 32
    assert SessionStore(taken.session_key)["owner"] == "first"
    assert SessionStore("k" * 32)["owner"] == "second"


@pytest.mark.django_db
def test_a_key_already_taken_inside_a_transaction_leaves_the_transaction_usable(
    monkeypatch: Any,
) -> None:
    with transaction.atomic():
        taken = SessionStore()
        taken.create()
        assert taken.session_key is not None
        keys_drawn(monkeypatch, taken.session_key, "k" * 32)

        SessionStore().create()

        assert Session.objects.count() == 2  # would fail if the failed INSERT broke it


@autocommit
def test_saving_a_session_deleted_meanwhile_is_an_update_error() -> None:
    session = SessionStore()
    session["step"] = 1
    session.create()
    Session.objects.filter(session_key=session.session_key).delete()

    session["step"] = 2
    with pytest.raises(UpdateError):
        session.save()
