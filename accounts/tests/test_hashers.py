from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, identify_hasher

from accounts.hashers import Argon2idHasher

pytestmark = pytest.mark.argon2


def test_argon2id_at_owasp_floor_is_the_default_hasher() -> None:
    encoded = get_hasher("default").encode("mot-de-passe", "saltsaltsaltsalt")

    assert isinstance(get_hasher("default"), Argon2idHasher)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_stored_argon2_hashes_are_verified_by_our_hasher_not_djangos() -> None:
    encoded = Argon2PasswordHasher().encode("mot-de-passe", "saltsaltsaltsalt")

    assert isinstance(identify_hasher(encoded), Argon2idHasher)
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" not in settings.PASSWORD_HASHERS


def test_concurrent_hashes_are_capped_per_process(settings: Any, monkeypatch: Any) -> None:
    settings.ACCOUNTS_MAX_CONCURRENT_HASHES = 2
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def slow_encode(self: Any, password: str, salt: str) -> str:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return "argon2$fake"

    monkeypatch.setattr(Argon2PasswordHasher, "encode", slow_encode)
    threads = [
        threading.Thread(target=Argon2idHasher().encode, args=("p", "saltsaltsaltsalt"))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak == 2


@pytest.mark.parametrize("password", [("Une-phrase-très-longue-" * 5)[:100], "Пароль-漢字-😀"])
def test_long_and_non_ascii_passwords_round_trip(password: str) -> None:
    hasher = Argon2idHasher()
    encoded = hasher.encode(password, hasher.salt())

    assert hasher.verify(password, encoded)
    assert not hasher.verify(password[:-1], encoded)


def test_a_hash_cap_below_one_stops_start_up() -> None:
    kept = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=Path(__file__).resolve().parents[2],
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "platform_site.settings",
            "DJANGO_DEBUG": "true",
            "ACCOUNTS_MAX_CONCURRENT_HASHES": "0",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "ACCOUNTS_MAX_CONCURRENT_HASHES must be 1 or more" in result.stderr
