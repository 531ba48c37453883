"""Fixtures shared by every app's tests; app-specific ones live in each app's tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.models import User
from accounts.tests.factories import UserFactory

pytest_plugins = [
    "platform_site.llm.tests.fakes.gemini",
    "platform_site.llm.tests.fakes.webhook",
    "platform_site.llm.tests.fakes.openai_compatible",
]


# Argon2id costs ~20 ms and 19 MiB a hash, paid by every test user who logs in or changes a
# password; MD5 costs microseconds. Only the tests marked `argon2` (the hashing itself, hash
# upgrades, what a login hashes) run with the production hashers.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _test_client_friendly_settings(settings: Any, request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("argon2") is None:
        # The production hashers stay listed: a stored Argon2id hash still verifies.
        settings.PASSWORD_HASHERS = [*FAST_PASSWORD_HASHERS, *settings.PASSWORD_HASHERS]
    # The suite runs with DEBUG off (production-like) but the test client speaks plain
    # HTTP and nobody ran collectstatic: serve static names unhashed.
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _french_to_start_with() -> Iterator[None]:
    # A request in English (the language cookie) leaves English active in the thread:
    # LocaleMiddleware never switches back. Every test starts in the source language.
    with translation.override(settings.LANGUAGE_CODE):
        yield


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
