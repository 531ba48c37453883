from __future__ import annotations

import pytest
from django.urls import resolve, reverse


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("accounts:register", "/accounts/register/"),
        ("accounts:login", "/accounts/login/"),
        ("accounts:logout", "/accounts/logout/"),
        ("accounts:password_change", "/accounts/password_change/"),
        ("admin:accounts_student_import", "/admin/accounts/student/import/"),
    ],
)
def test_named_url_round_trips(name: str, path: str) -> None:
    assert reverse(name) == path
    assert resolve(path).view_name == name
