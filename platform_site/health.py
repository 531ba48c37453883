"""Probes for Kubernetes. Neither touches an outside API: an upstream outage must not
take every pod out of service."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database, so a database outage restarts nothing."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database answers (connect timeout 3 s, see settings)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any driver error means "not ready"; the reason is reported
        return JsonResponse(
            {"status": "unavailable", "reason": f"database: {type(error).__name__}: {error}"},
            status=503,
        )
    return JsonResponse({"status": "ok"})
