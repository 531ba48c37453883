"""Argon2id at OWASP's recommended floor (19 MiB, 2 iterations, parallelism 1).

Django's own Argon2 defaults take ~100 MiB per hash: four logins at once came close
to the pod's 512 MiB limit. Same algorithm name as Django's hasher, so existing
argon2 hashes verify and are re-hashed with these parameters on the next login.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
