"""Argon2id at OWASP's recommended floor (19 MiB, 2 iterations, parallelism 1).

Django's own Argon2 defaults take ~100 MiB per hash: four logins at once came close
to the pod's 512 MiB limit. Same algorithm name as Django's hasher, so existing
argon2 hashes verify and are re-hashed with these parameters on the next login.

argon2-cffi releases the GIL while hashing, so a threaded worker can run many hashes at
once: a per-process semaphore (ACCOUNTS_MAX_CONCURRENT_HASHES) makes a burst of logins
queue instead of multiplying the memory.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.signals import setting_changed
from django.dispatch import receiver

_hash_slots: threading.BoundedSemaphore | None = None
_hash_slots_lock = threading.Lock()


def hash_slots() -> threading.BoundedSemaphore:
    global _hash_slots
    with _hash_slots_lock:
        if _hash_slots is None:
            _hash_slots = threading.BoundedSemaphore(settings.ACCOUNTS_MAX_CONCURRENT_HASHES)
        return _hash_slots


@receiver(setting_changed)
def _resize_hash_slots(*, setting: str, **kwargs: Any) -> None:
    global _hash_slots
    if setting == "ACCOUNTS_MAX_CONCURRENT_HASHES":
        with _hash_slots_lock:
            _hash_slots = None


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hash_slots():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hash_slots():
            return super().verify(password, encoded)
