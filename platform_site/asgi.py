"""The ASGI application gunicorn serves (uvicorn workers, see gunicorn.conf.py).

Served this way, a request body is read by the event loop, before any thread runs the view:
a client trickling its body holds a coroutine, not one of a few worker threads, and an
upload takes a processing slot only once it has fully arrived (docs/deploy.md, "Slow
clients"). `SlowBodyGuard` answers 408 to a body slower than a floor rate, so such clients
cannot pile up either.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")

logger = logging.getLogger("platform_site.requests")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A body may take GRACE_S to start, then must keep up FLOOR_BYTES_PER_S on average: a
# 20 MB upload at the floor takes 34 minutes, any real connection is far faster.
GRACE_S = 10.0
FLOOR_BYTES_PER_S = 10 * 1024

TIMEOUT_PAGE = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Requête trop lente'
    "</title></head><body><h1>Requête trop lente</h1><p>Le formulaire est arrivé trop "
    "lentement. Vérifiez votre connexion et envoyez-le de nouveau.</p></body></html>"
).encode()


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run in one thread.

    Every view and nearly every middleware of the site is synchronous. Django's own handler
    builds an asynchronous chain, adapting at each boundary between sync-only and
    async-capable middleware and running each `process_request`/`process_response` of the
    async-capable ones through `sync_to_async`: several thread hops per request, 1 to 2 ms
    each request on these machines (docs/performance.md). Here the chain is built as under
    WSGI and the request crosses into a thread once.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the request's own thread (ASGIHandler opens a
        # ThreadSensitiveContext per request), as Django runs a sync view.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


class SlowBodyGuard:
    """Cut with 408 a request body slower than GRACE_S + received / FLOOR_BYTES_PER_S."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        grace_s: float = GRACE_S,
        floor_bytes_per_s: float = FLOOR_BYTES_PER_S,
    ) -> None:
        self.app = app
        self.grace_s = grace_s
        self.floor_bytes_per_s = floor_bytes_per_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        received = 0
        body_done = False
        cut = False

        async def guarded_receive() -> Message:
            nonlocal received, body_done, cut
            if body_done or cut:
                return await receive()
            allowed_until = started + self.grace_s + received / self.floor_bytes_per_s
            try:
                message = await asyncio.wait_for(
                    receive(), timeout=max(0.0, allowed_until - time.monotonic())
                )
            except TimeoutError:
                cut = True
                logger.warning(
                    "%s %s 408 body too slow (%d bytes in %.1fs)",
                    scope.get("method"), scope.get("path"), received,
                    time.monotonic() - started,
                )  # fmt: skip
                await _send_408(send)
                # Django reads this as the client gone and answers nothing more.
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            return message

        await self.app(scope, guarded_receive, send)


async def _send_408(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 408,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(TIMEOUT_PAGE)).encode()),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TIMEOUT_PAGE, "more_body": False})


django.setup(set_prefix=False)
application = SlowBodyGuard(SyncChainASGIHandler())  # type: ignore[arg-type]
