"""Argon2id with OWASP's 7 MiB, 5 iterations, parallelism 1.

OWASP's password storage cheat sheet lists five Argon2id settings that "provide an equal
level of defense" (46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5) and trade memory
against passes. 7 MiB/t=5 is the fastest of the five here, and the one that costs the least
memory: the web process returns every allocation above 128 KiB to the system when freed
(platform_site/malloc.py), so each hash takes its buffer fresh from the kernel, one page
fault per 4 KiB page. 19 MiB/t=2 took 40 ms a hash that way, 7 MiB/t=5 21 ms
(docs/performance.md).

Django's own Argon2 defaults take ~100 MiB per hash: four logins at once came close
to the pod's 512 MiB limit. Same algorithm name as Django's hasher, so existing
argon2 hashes (ours at 19 MiB/t=2 before) verify and are re-hashed with these parameters on
the next login.

argon2-cffi releases the GIL while hashing, so a threaded worker can run many hashes at
once: a per-process cap (`hash_slots`, sized by ACCOUNTS_MAX_CONCURRENT_HASHES) makes a burst
of logins queue instead of multiplying the memory.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher

from platform_site.slots import ProcessSlots

hash_slots = ProcessSlots("ACCOUNTS_MAX_CONCURRENT_HASHES")


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 5
    memory_cost = 7 * 1024  # KiB
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hash_slots.held():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hash_slots.held():
            return super().verify(password, encoded)
