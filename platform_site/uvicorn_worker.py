"""The gunicorn worker class for the ASGI application (gunicorn.conf.py).

uvicorn's defaults changed for this site: no proxy-header rewriting (the client address
stays the direct peer; the site reads X-Forwarded-For itself, counting
DJANGO_TRUSTED_PROXY_HOPS, see accounts/client_ip.py), no lifespan protocol (Django has
none). The HTTP parser is httptools and the loop uvloop (both ship as wheels, nothing to
build): the pure-Python h11 parser and the standard asyncio loop cost ~0.3 ms more per
request (docs/performance.md).
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "off",
        "proxy_headers": False,
        # platform_site.middleware.RequestLogMiddleware logs each request; uvicorn's own line
        # would be a second one.
        "access_log": False,
    }
