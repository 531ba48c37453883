from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_200_without_the_database(client: Client) -> None:
    # No django_db mark: pytest-django fails the test if the view touches the database.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_200_when_the_database_answers(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200


def test_readyz_answers_503_without_naming_the_database_when_it_is_unreachable() -> None:
    # A fresh process, so its DATABASE_URL points at a port where nothing listens.
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz');"
        "print('READYZ', r.status_code, r.content.decode())"
    )
    kept = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "platform_site.settings",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    (line,) = [line for line in result.stdout.splitlines() if line.startswith("READYZ ")]
    _, status, body = line.split(" ", 2)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable"}
    assert "not ready: database:" in result.stdout + result.stderr
