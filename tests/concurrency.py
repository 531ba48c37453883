"""Run requests of one user at the same moment, each on its own database connection.

For the tests of counted limits: a limit counted without a lock lets two requests both count
the same number, both pass the last unit, and both insert. `slowed` widens the gap between the
count and the insert, so the race shows every time rather than once in a while.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

# Row locks are PostgreSQL's: SQLite locks the whole file, and threads writing one in-memory test
# database at once fail with "database table is locked" instead of waiting.
needs_row_locks = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks files)"
    ),
]

# Long enough for every other thread to reach its own count while the first one waits.
COUNT_TO_INSERT_GAP_S = 0.3


def slowed[**P, R](count: Callable[P, R]) -> Callable[P, R]:
    """`count`, then a pause before the caller goes on to insert."""

    def counted_then_paused(*args: P.args, **kwargs: P.kwargs) -> R:
        result = count(*args, **kwargs)
        time.sleep(COUNT_TO_INSERT_GAP_S)
        return result

    return counted_then_paused


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each call's result, or the exception it raised, in the order of `calls`."""
    start = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()  # the thread's own connection, or the test database stays in use

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
