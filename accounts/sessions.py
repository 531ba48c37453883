"""Django's database sessions, with a login that writes the session row once, not twice.

`login()` calls `cycle_key()`, which in Django's database backend INSERTs the session under
its new key at once (still empty), then the response UPDATEs it with the login's data: two
write transactions, each waiting for its commit to reach the disk. Here `cycle_key()` only
forgets the old key (and deletes the old row); the SessionMiddleware saves the session at
the end of the request, and a session without a key is created then, with all its data, in
one INSERT (docs/performance.md). The key still changes at login (no session fixation):
the new one is made at that save, without the query Django makes first to see whether the
random key is free.

The session's write is one statement: Django wraps it in `transaction.atomic()`, so a login
also paid a `BEGIN` and a `COMMIT`, two more round trips to the database, which matter only
inside an outer transaction (there the write must be undone alone if it fails).

Every request of a logged-in user reads its session: that read is one SQL statement written
here, not a queryset, whose building cost more than the query itself (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, connections, router
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

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            self.create()
            return
        database = router.db_for_write(self.model)
        if connections[database].in_atomic_block:
            super().save(must_create)  # Django's, whose atomic() is then a savepoint
            return
        # Django's save without its atomic(): in autocommit, the one statement is its own
        # transaction, and a failed one leaves nothing behind.
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # not in the stubs
        session = self.create_model_instance(data)
        try:
            session.save(force_insert=must_create, force_update=not must_create, using=database)
        except IntegrityError:
            if must_create:
                raise CreateError from None
            raise
        except DatabaseError:
            if not must_create:
                raise UpdateError from None
            raise

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
