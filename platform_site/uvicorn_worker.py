"""The gunicorn worker class for the ASGI application (gunicorn.conf.py).

uvicorn's defaults changed for this site: no proxy-header rewriting (the client address
stays the direct peer; the site reads X-Forwarded-For itself, counting
DJANGO_TRUSTED_PROXY_HOPS, see accounts/client_ip.py), no lifespan protocol (Django has
none), and the pure-Python h11 parser with the standard asyncio loop (no optional C
extensions to build or ship).
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        "loop": "asyncio",
        "http": "h11",
        "lifespan": "off",
        "proxy_headers": False,
    }
