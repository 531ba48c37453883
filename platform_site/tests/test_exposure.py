"""What the site shows to whom: probes, metrics and caches (issue: hold under attack)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import Client

from accounts.models import User
from platform_site import health

pytestmark = pytest.mark.django_db


def test_readyz_says_only_that_the_database_is_not_ready(client: Client) -> None:
    failure = OperationalError('connection to server at "db.internal" (10.0.0.5), port 5432')
    # On PostgreSQL the probe has a connection of its own; elsewhere it uses the request's.
    with (
        mock.patch.object(connection, "cursor", side_effect=failure),
        mock.patch.object(health, "_postgresql_answers", side_effect=failure),
    ):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"5432" not in response.content


def test_metrics_answer_a_scrape_from_inside_the_cluster(client: Client) -> None:
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.6").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "93.184.216.34"},
        {"REMOTE_ADDR": "127.0.0.6", "HTTP_X_FORWARDED_FOR": "93.184.216.34"},
        {"REMOTE_ADDR": "93.184.216.34", "HTTP_AUTHORIZATION": "Bearer wrong"},
    ],
    ids=["public address", "through the gateway", "wrong token"],
)
def test_metrics_are_a_404_from_outside(client: Client, settings: Any, headers: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-token"

    assert client.get("/metrics", **headers).status_code == 404


def test_metrics_answer_the_token_from_anywhere(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-token"

    response = client.get(
        "/metrics",
        REMOTE_ADDR="93.184.216.34",
        HTTP_X_FORWARDED_FOR="93.184.216.34",
        HTTP_AUTHORIZATION="Bearer s3cret-token",
    )

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/home/", "/codegen/", "/codegen/history/", "/ocr/"])
def test_pages_of_a_logged_in_user_are_never_stored(logged_in: Client, path: str) -> None:
    response = logged_in.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_download_of_a_logged_in_user_is_never_stored(logged_in: Client, user: User) -> None:
    from codegen.tests.factories import AnsweredQuestionFactory

    question = AnsweredQuestionFactory.create(user=user)

    response = logged_in.get(f"/codegen/{question.pk}/download/")

    assert response["Cache-Control"] == "private, no-store"
