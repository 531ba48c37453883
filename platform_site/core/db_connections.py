"""The database connection of a request that is about to wait on an outside service."""

from __future__ import annotations

from django.db import connection


def connection_release_for_wait() -> None:
    """Give this thread's database connection back to the pool before a long outside call.

    Under the uvicorn workers, connections come from a pool per process
    (DJANGO_DB_POOL_MAX_SIZE, 20). A question waiting up to CODEGEN_TIMEOUT_S on the LLM held
    one all that time, so 20 waiting questions left none for the pages: `/home/` took 3 s
    (p50) while 50 questions waited (docs/performance.md). The next query takes a connection
    from the pool again. Without a pool (gthread workers, the tests) the connection is the
    thread's own and is kept; inside a transaction it must be kept too.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    if connection.pool is not None:  # type: ignore[attr-defined]
        connection.close()
