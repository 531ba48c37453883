from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from platform_site.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def test_each_request_is_logged_once_with_method_path_status_duration_and_user(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    user = get_user_model().objects.create_user(username="ada", password="unused-here-1")
    client.force_login(user)

    with caplog.at_level(logging.INFO, logger="platform_site.requests"):
        client.get("/healthz")

    (record,) = [r for r in caplog.records if r.name == "platform_site.requests"]
    assert record.method == "GET"  # type: ignore[attr-defined]
    assert record.path == "/healthz"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert record.user_id == user.pk  # type: ignore[attr-defined]


def test_json_formatter_writes_one_object_with_the_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "GET / %s", "args": (200,), "status": 200}
    )

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "GET / 200"
    assert line["status"] == 200
    assert line["level"] == "INFO"
