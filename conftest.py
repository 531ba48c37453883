"""Fixtures shared by every app's tests; app-specific ones live in each app's tests/conftest.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory

pytest_plugins = ["tests.fakes.gemini", "tests.fakes.webhook", "tests.fakes.openai_compatible"]


@pytest.fixture(autouse=True)
def _test_client_friendly_settings(settings: Any) -> None:
    # The suite runs with DEBUG off (production-like) but the test client speaks plain
    # HTTP and nobody ran collectstatic: serve static names unhashed.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def other_user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client
