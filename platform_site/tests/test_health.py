from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.test import Client

from platform_site import health

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


def test_readyz_answers_503_within_a_second_without_naming_an_unreachable_database() -> None:
    # A fresh process, so its DATABASE_URL points at a port where nothing listens. With a pool,
    # whose requests wait up to 10 s for a connection: the probe must not wait with them.
    # /healthz first, so that the timing leaves out the first request's imports.
    script = (
        "import time; import django; django.setup();"
        "from django.test import Client;"
        "Client().get('/healthz');"
        "started = time.monotonic();"
        "r = Client().get('/readyz');"
        "elapsed = time.monotonic() - started;"
        "print('READYZ', r.status_code, f'{elapsed:.3f}', r.content.decode())"
    )
    kept = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "platform_site.settings",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
            "DJANGO_DB_POOL_MAX_SIZE": "4",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    (line,) = [line for line in result.stdout.splitlines() if line.startswith("READYZ ")]
    _, status, elapsed, body = line.split(" ", 3)
    assert status == "503", result.stderr
    assert json.loads(body) == {"status": "unavailable"}
    assert "not ready: database:" in result.stdout + result.stderr
    assert float(elapsed) < 1.0


def test_readyz_gives_up_at_its_deadline_when_the_database_does_not_answer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database host that swallows packets: the connect would wait READYZ_CONNECT_TIMEOUT_S.
    answer = threading.Event()
    monkeypatch.setattr(health, "READYZ_DEADLINE_S", 0.1)
    monkeypatch.setattr(health, "_postgresql_answers", lambda: answer.wait(5))
    monkeypatch.setattr(health.connection, "vendor", "postgresql")

    started = time.monotonic()
    response = client.get("/readyz")
    answer.set()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert time.monotonic() - started < 1.0
