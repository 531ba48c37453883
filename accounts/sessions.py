"""Django's database sessions, with a login that writes the session row once, not twice.

`login()` calls `cycle_key()`, which in Django's database backend INSERTs the session under
its new key at once (still empty), then the response UPDATEs it with the login's data: two
write transactions, each waiting for its commit to reach the disk. Here `cycle_key()` only
forgets the old key (and deletes the old row); the SessionMiddleware saves the session at
the end of the request, and a session without a key is created then, with all its data, in
one INSERT (docs/performance.md). The key still changes at login (no session fixation):
the new one is made at that save, without the query Django makes first to see whether the
random key is free.

Every request of a logged-in user reads its session: that read is one SQL statement written
here, not a queryset, whose building cost more than the query itself (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict[str, Any]:
        # Django's: model.objects.get(session_key=…, expire_date__gt=now), then decode.
        session_key = self.session_key
        if session_key is None:
            return {}
        database = router.db_for_read(self.model)
        connection = connections[database]
        table = connection.ops.quote_name(self.model._meta.db_table)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} "  # noqa: S608 - the model's own table
                "WHERE session_key = %s AND expire_date > %s",
                [session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        data: dict[str, Any] = self.decode(row[0])
        return data

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
