"""Django's database sessions, with a login that writes the session row once, not twice.

`login()` calls `cycle_key()`, which in Django's database backend INSERTs the session under
its new key at once (still empty), then the response UPDATEs it with the login's data: two
write transactions, each waiting for its commit to reach the disk. Here `cycle_key()` only
forgets the old key (and deletes the old row); the SessionMiddleware saves the session at
the end of the request, and a session without a key is created then, with all its data, in
one INSERT (docs/performance.md). The key still changes at login (no session fixation):
the new one is made at that save, without the query Django makes first to see whether the
random key is free.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        # No SELECT first to see whether the random key is taken (Django's way): the INSERT
        # (must_create) fails on the primary key if it is, and create() draws another.
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = dict(self.items())
        old_key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)
