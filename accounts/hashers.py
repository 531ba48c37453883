"""Argon2id at OWASP's recommended floor (19 MiB, 2 iterations, parallelism 1).

Django's own Argon2 defaults take ~100 MiB per hash: four logins at once came close
to the pod's 512 MiB limit. Same algorithm name as Django's hasher, so existing
argon2 hashes verify and are re-hashed with these parameters on the next login.

argon2-cffi releases the GIL while hashing, so a threaded worker can run many hashes at
once: a per-process cap (`hash_slots`, sized by ACCOUNTS_MAX_CONCURRENT_HASHES) makes a burst
of logins queue instead of multiplying the memory.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

from platform_site.core.slots import ProcessSlots

hash_slots = ProcessSlots("ACCOUNTS_MAX_CONCURRENT_HASHES")


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hash_slots.held():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hash_slots.held():
            return super().verify(password, encoded)
