from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _codegen_settings(settings: Any) -> None:
    # No outside service unless a test asks for a fake: an unset URL means "not configured".
    settings.CODEGEN_BACKEND = "webhook"
    settings.CODEGEN_WEBHOOK_URL = ""
    settings.CODEGEN_WEBHOOK_API_KEY = ""
    settings.CODEGEN_GEMINI_MODEL = "gemini-3.8-flash"
    settings.CODEGEN_TIMEOUT_S = 5.0
    settings.CODEGEN_MAX_MESSAGE_CHARS = 8000
    settings.CODEGEN_DAILY_QUOTA = 100
    settings.CODEGEN_MAX_IN_FLIGHT = 8
    settings.CODEGEN_RETRY_BACKOFF_S = 0.01
    settings.CODEGEN_MAX_SENDS = 3
