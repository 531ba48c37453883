from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _accounts_settings(settings: Any) -> None:
    settings.ACCOUNTS_REGISTRATION_OPEN = True
    settings.TRUSTED_PROXY_HOPS = 0
