"""One log line per request, with what an operator needs to follow a user's trouble."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound

logger = logging.getLogger("platform_site.requests")


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id,
        }
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        logger.log(
            level,
            "%s %s %s %.1fms user=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            user_id,
            extra=fields,
        )
        return response


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every answer to a logged-in user.

    Pages and downloads of a logged-in user hold their questions, documents and names: no
    shared cache (a proxy, a CDN) may keep them, nor the browser's disk once the tab closes
    on a shared computer. An answer that already says `no-store` is left as it is.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and "no-store" not in response.get("Cache-Control", "")
        ):
            response["Cache-Control"] = "private, no-store"
        return response


class MetricsAccessMiddleware:
    """`/metrics` answers only inside the cluster, or to a caller holding METRICS_TOKEN.

    Inside the cluster: the scrape comes straight to the pod (the Istio agent on localhost,
    Prometheus on a private address), without the `X-Forwarded-For` that every request
    through the gateway carries. Anything else gets the 404 of a page that does not exist,
    whatever the gateway's own rules (a second lock, not the only one).
    """

    PATH = "/metrics"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.rstrip("/") == self.PATH and not self._allowed(request):
            return HttpResponseNotFound()
        return self.get_response(request)

    @staticmethod
    def _allowed(request: HttpRequest) -> bool:
        token = settings.METRICS_TOKEN
        if token:
            sent = request.headers.get("Authorization", "")
            if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return True
        if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
            return False
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return address.is_loopback or address.is_private
