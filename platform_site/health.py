"""Probes for Kubernetes. Neither touches an outside API: an upstream outage must not
take every pod out of service."""

from __future__ import annotations

import logging
import threading

import psycopg
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# Readiness answers within this, database reachable or not: a probe that waits longer is cut
# by the kubelet and counts as a failure anyway, and a pod must leave the Service quickly.
READYZ_DEADLINE_S = 1.0
# libpq's floor (a smaller value is read as 2 s); the deadline above answers before it.
READYZ_CONNECT_TIMEOUT_S = 2


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database, so a database outage restarts nothing."""
    return JsonResponse({"status": "ok"})


def _postgresql_answers() -> None:
    """SELECT 1 on a connection of the probe's own, neither the pool's nor the request's.

    A pooled request waits up to DJANGO_DB_POOL_TIMEOUT_S (10 s) for a connection, the
    patience a busy database deserves; a probe asks only whether the database answers now.
    """
    params = {**connection.get_connection_params(), "connect_timeout": READYZ_CONNECT_TIMEOUT_S}
    with psycopg.connect(**params) as probe:
        probe.execute("SELECT 1")


def _database_error() -> Exception | None:
    """None when the database answers within READYZ_DEADLINE_S, else what went wrong."""
    if connection.vendor != "postgresql":
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as error:  # any driver error means "not ready"
            return error
        return None
    outcome: list[Exception | None] = []

    def probe() -> None:
        try:
            _postgresql_answers()
        except Exception as error:  # any driver error means "not ready"
            outcome.append(error)
        else:
            outcome.append(None)

    # A daemon thread: a connect to a silent host ends at READYZ_CONNECT_TIMEOUT_S, after
    # the answer, and never holds the process's exit.
    worker = threading.Thread(target=probe, name="readyz-probe", daemon=True)
    worker.start()
    worker.join(READYZ_DEADLINE_S)
    if not outcome:
        return TimeoutError(f"no answer within {READYZ_DEADLINE_S} s")
    return outcome[0]


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database answers within READYZ_DEADLINE_S.

    The answer says ready or not, nothing more: the driver's message names the database host
    and port, which anyone could read here. The reason goes to the log.
    """
    error = _database_error()
    if error is not None:
        logger.warning("not ready: database: %s: %s", type(error).__name__, error)
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
