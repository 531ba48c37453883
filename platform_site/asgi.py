"""The ASGI application gunicorn serves (uvicorn workers, see gunicorn.conf.py).

Served this way, a request body is read by the event loop, before any thread runs the view:
a client trickling its body holds a coroutine, not one of a few worker threads, and an
upload takes a processing slot only once it has fully arrived (docs/deploy.md, "Slow
clients"). `SlowBodyGuard` answers 408 to a body slower than a floor rate, so such clients
cannot pile up either.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future
from contextlib import closing
from typing import Any

import django
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import HttpResponseBase
from django.urls import set_script_prefix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_site.settings")

logger = logging.getLogger("platform_site.requests")

Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A body may take GRACE_S to start, then must keep up FLOOR_BYTES_PER_S on average: a
# 20 MB upload at the floor takes 34 minutes, any real connection is far faster.
GRACE_S = 10.0
FLOOR_BYTES_PER_S = 10 * 1024

# Threads per process for requests, as gunicorn's threaded workers had: at most this many
# run at once, the rest queue (bodies are still read meanwhile, by the event loop).
REQUEST_THREADS = int(os.environ.get("GUNICORN_THREADS", "16"))

TIMEOUT_PAGE = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Requête trop lente'
    "</title></head><body><h1>Requête trop lente</h1><p>Le formulaire est arrivé trop "
    "lentement. Vérifiez votre connexion et envoyez-le de nouveau.</p></body></html>"
).encode()


class SyncChainASGIHandler(ASGIHandler):
    """Django's ASGI handler, each request run in one call on a thread the process keeps.

    Every view and nearly every middleware of the site is synchronous. Django's own handler
    builds an asynchronous chain, adapting at each boundary between sync-only and
    async-capable middleware, and opens a `ThreadSensitiveContext` per request: a new thread
    is started and joined for every request, and the `request_started` signal, the chain and
    the response's `close()` each cross into it (docs/performance.md). Here the chain is
    built as under WSGI, and the signals, the chain and the view run in one call on one of
    `threads`, which live as long as the process, as gunicorn's threaded workers did.

    A streamed response (server-sent events, files) is read in that same thread, which sends
    each part through the event loop as soon as it exists, and stops when the client has
    gone: the view's generator is closed then, as Django's handler does. Django's handler
    read a plain iterator whole into memory before sending it; here the loop's write buffer
    holds the thread back instead, so a client that reads slowly keeps that thread (as under
    gthread) but the process never holds a whole 20 MB source PDF.
    """

    def __init__(self, *, threads: int = REQUEST_THREADS) -> None:
        super().__init__()
        # A request waiting on the LLM holds one thread; CODEGEN_MAX_IN_FLIGHT (8) caps those
        # waits below the 16 threads, so pages keep some.
        self.threads = RequestThreads(threads)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        loop = asyncio.get_running_loop()
        gone = threading.Event()
        listener = asyncio.create_task(_until_disconnect(receive, gone))
        try:
            with closing(body_file):
                # The request's context (contextvars) goes with it into the thread, as
                # sync_to_async would carry it.
                context = contextvars.copy_context()
                response = await self.threads.run(
                    context.run, self._respond, scope, body_file, _ThreadSender(loop, send, gone)
                )
                if response is not None:
                    await self.send_response(response, send)
                    if response.streaming:  # an async iterator, read by the loop: closed now
                        await self.threads.run(context.run, response.close)
        finally:
            listener.cancel()

    def _respond(
        self, scope: Scope, body_file: Any, sender: _ThreadSender
    ) -> HttpResponseBase | None:
        """In the pool's thread: the whole request, but sending a complete response.

        Returns the response the event loop still has to send, or None once a streamed
        response has been sent and closed here.
        """
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # noqa: S101 - create_request gives one of them
            response: HttpResponseBase = error_response
        else:
            response = self.get_response(request)
        if not response.streaming:
            # The body is in memory: closing now (request_finished) gives the database
            # connection back before the bytes go out.
            response.close()
            return response
        if getattr(response, "is_async", False):
            return response  # an async iterator: the event loop reads it
        try:
            self._send_streamed(response, sender)
        finally:
            response.close()  # closes the view's generator too, if the client left first
        return None

    def _send_streamed(self, response: HttpResponseBase, sender: _ThreadSender) -> None:
        sender.send(
            {"type": "http.response.start", "status": response.status_code,
             "headers": _response_headers(response)}
        )  # fmt: skip
        for part in response:
            if sender.gone.is_set():
                return
            for chunk, _last in self.chunk_bytes(part):
                sender.send({"type": "http.response.body", "body": chunk, "more_body": True})
        sender.send({"type": "http.response.body", "body": b"", "more_body": False})


class RequestThreads:
    """A fixed number of threads, all started at once, that run this process's requests.

    Not `concurrent.futures.ThreadPoolExecutor`: it starts a new thread whenever none is idle
    at the instant of a submit, and a thread counts as idle only after the event loop has
    seen its result, so under steady load it grew to its maximum, one thread at a time (the
    30-minute soak: 256 threads, the web process +19 %, docs/performance.md). These
    threads are started once and stay: the process's memory is flat.
    """

    def __init__(self, count: int) -> None:
        self._work: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]]
        self._work = queue.SimpleQueue()
        for number in range(count):
            # Daemon: an idle thread must not keep the process alive at exit (gunicorn has
            # already let the requests in flight finish by then).
            threading.Thread(target=self._serve, name=f"request-{number}", daemon=True).start()

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        """`function(*args)` in one of the threads; its result, or its exception."""
        future: Future[Any] = Future()
        self._work.put((future, function, args))
        return await asyncio.wrap_future(future)

    def _serve(self) -> None:
        while True:
            future, function, args = self._work.get()
            if not future.set_running_or_notify_cancel():
                continue  # the awaiting task was cancelled before this started
            try:
                result = function(*args)
            except BaseException as error:  # handed to the awaiting task, as an executor does
                future.set_exception(error)
            else:
                future.set_result(result)


class _ThreadSender:
    """`send` for a thread that is not the event loop's: waits until the loop has sent it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Send, gone: threading.Event) -> None:
        self.loop = loop
        self._send = send
        self.gone = gone

    def send(self, message: Message) -> None:
        async def sent() -> None:
            await self._send(message)

        asyncio.run_coroutine_threadsafe(sent(), self.loop).result()


async def _until_disconnect(receive: Receive, gone: threading.Event) -> None:
    """Set `gone` when the client disconnects (uvicorn also says so once the answer is sent)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _response_headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    """The headers and cookies as ASGI wants them (as Django's send_response builds them)."""
    headers = [(name.encode("ascii"), value.encode("latin1")) for name, value in response.items()]
    headers += [
        (b"Set-Cookie", c.OutputString().encode("ascii")) for c in response.cookies.values()
    ]
    return headers


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
application = SlowBodyGuard(SyncChainASGIHandler())
