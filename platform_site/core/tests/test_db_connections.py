"""A request about to wait on an outside service gives its pooled connection back."""

from __future__ import annotations

from types import SimpleNamespace
from unittest import mock

import pytest

from platform_site.core import db_connections


def fake_connection(**attributes: object) -> SimpleNamespace:
    defaults: dict[str, object] = {
        "vendor": "postgresql", "in_atomic_block": False, "pool": object(), "close": mock.Mock(),
    }  # fmt: skip
    return SimpleNamespace(**{**defaults, **attributes})


def test_a_pooled_connection_goes_back_to_the_pool() -> None:
    connection = fake_connection()
    with mock.patch.object(db_connections, "connection", connection):
        db_connections.connection_release_for_wait()

    connection.close.assert_called_once_with()


@pytest.mark.parametrize(
    "attributes",
    [{"pool": None}, {"in_atomic_block": True}, {"vendor": "sqlite"}],
    ids=["no pool: the thread's own connection", "inside a transaction", "SQLite"],
)
def test_otherwise_the_connection_is_kept(attributes: dict[str, object]) -> None:
    connection = fake_connection(**attributes)
    with mock.patch.object(db_connections, "connection", connection):
        db_connections.connection_release_for_wait()

    connection.close.assert_not_called()
