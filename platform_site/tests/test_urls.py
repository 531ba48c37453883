from __future__ import annotations

import pytest
from django.urls import resolve, reverse


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("root", "/"),
        ("home", "/home/"),
        ("healthz", "/healthz"),
        ("readyz", "/readyz"),
        ("accounts:login", "/accounts/login/"),
        ("accounts:logout", "/accounts/logout/"),
        ("set_language", "/i18n/setlang/"),
        ("prometheus-django-metrics", "/metrics"),
    ],
)
def test_named_url_round_trips(name: str, path: str) -> None:
    assert reverse(name) == path
    assert resolve(path).view_name == name
