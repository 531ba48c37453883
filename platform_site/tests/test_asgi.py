"""Slow request bodies: read by the event loop, cut with 408 below the floor rate."""

from __future__ import annotations

import asyncio
import runpy
import sys
import threading
from pathlib import Path
from typing import Any

from platform_site.asgi import SlowBodyGuard

ROOT = Path(__file__).resolve().parents[2]


def run(guard_app: Any, messages: list[dict[str, Any]], *, delay_s: float) -> tuple[Any, list]:
    """Drive the guard around `app` with a client sending `messages`, `delay_s` apart."""
    sent: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(delay_s)
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    scope = {"type": "http", "method": "POST", "path": "/accounts/login/"}
    asyncio.run(guard_app(app)(scope, receive, send))
    return sent, seen


def test_a_body_slower_than_the_floor_rate_is_cut_with_408() -> None:
    trickle = [{"type": "http.request", "body": b"a", "more_body": True}] * 100

    sent, seen = run(
        lambda app: SlowBodyGuard(app, grace_s=0.3, floor_bytes_per_s=10), trickle, delay_s=0.2
    )

    assert sent[0]["status"] == 408
    assert seen[-1] == {"type": "http.disconnect"}
    assert len(seen) < 10


def test_a_body_faster_than_the_floor_reaches_the_application_whole() -> None:
    chunks = [{"type": "http.request", "body": b"x" * 100, "more_body": True}] * 5
    chunks.append({"type": "http.request", "body": b"", "more_body": False})

    sent, seen = run(
        lambda app: SlowBodyGuard(app, grace_s=0.3, floor_bytes_per_s=10), chunks, delay_s=0.05
    )

    assert sent == []
    assert sum(len(m["body"]) for m in seen) == 500


def test_gunicorn_serves_the_asgi_application_with_uvicorn_workers(monkeypatch: Any) -> None:
    monkeypatch.delenv("GUNICORN_WORKER_CLASS", raising=False)
    monkeypatch.setenv("DJANGO_CONN_MAX_AGE", "60")  # restored after the test

    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    assert config["wsgi_app"] == "platform_site.asgi:application"
    assert config["worker_class"] == "platform_site.uvicorn_worker.Worker"


PROBE_SCOPE = {
    "type": "http", "method": "GET", "path": "/probe", "query_string": b"",
    "headers": [(b"host", b"testserver")], "server": ("testserver", 80),
    "client": ("127.0.0.1", 5000),
}  # fmt: skip


def probe_site(settings: Any, monkeypatch: Any, view: Any, middleware: Any = None) -> None:
    """Serve `view` at /probe, with `middleware` (if any) first in the chain."""
    from django.urls import path

    module = type("urls", (), {"urlpatterns": [path("probe", view)]})
    monkeypatch.setitem(sys.modules, "probe_urls", module)
    settings.ROOT_URLCONF = "probe_urls"
    if middleware is not None:
        settings.MIDDLEWARE = [f"{__name__}.FIRST", *settings.MIDDLEWARE]
        monkeypatch.setitem(globals(), "FIRST", middleware)


def serve(handler: Any, *, client_leaves_after: int | None = None) -> list[dict[str, Any]]:
    """One GET /probe through `handler`; the client disconnects after that many body parts."""
    return asyncio.run(serve_async(handler, client_leaves_after=client_leaves_after))


async def serve_async(
    handler: Any, *, client_leaves_after: int | None = None
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    body = [{"type": "http.request", "body": b"", "more_body": False}]
    left = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        if client_leaves_after is None:
            await asyncio.sleep(10)  # the client waits for the answer (cancelled then)
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)
        parts = [m for m in sent if m.get("body")]
        if client_leaves_after is not None and len(parts) >= client_leaves_after:
            left.set()
            await asyncio.sleep(0.05)  # the disconnect is seen before the next part

    await handler(dict(PROBE_SCOPE), receive, send)
    return sent


def test_the_middleware_chain_and_the_view_run_in_one_thread_under_asgi(
    settings: Any, monkeypatch: Any
) -> None:
    """One hop into a thread per request: no async middleware adapter in between."""
    from django.http import HttpRequest, HttpResponse, JsonResponse

    from platform_site.asgi import SyncChainASGIHandler

    threads: dict[str, int] = {}

    def first_middleware(get_response: Any) -> Any:
        def middleware(request: HttpRequest) -> HttpResponse:
            threads["middleware"] = threading.get_ident()
            return get_response(request)

        return middleware

    def view(request: HttpRequest) -> HttpResponse:
        threads["view"] = threading.get_ident()
        return JsonResponse({"ok": True})

    probe_site(settings, monkeypatch, view, first_middleware)
    handler = SyncChainASGIHandler()

    sent = serve(handler)

    assert sent[0]["status"] == 200
    assert threads["middleware"] == threads["view"] != threading.get_ident()
    assert not asyncio.iscoroutinefunction(handler._middleware_chain)  # type: ignore[attr-defined]


def test_requests_reuse_the_threads_of_the_pool_and_signal_start_and_end_there(
    settings: Any, monkeypatch: Any
) -> None:
    """Django's handler starts (and joins) a thread per request; this one keeps its threads."""
    from django.core import signals
    from django.http import HttpRequest, HttpResponse

    from platform_site.asgi import SyncChainASGIHandler

    seen = threading.local()
    events: list[tuple[str, int, bool]] = []

    def view(request: HttpRequest) -> HttpResponse:
        events.append(("view", threading.get_ident(), getattr(seen, "before", False)))
        seen.before = True
        return HttpResponse("ok")

    def started(**kwargs: Any) -> None:
        events.append(("started", threading.get_ident(), False))

    def finished(**kwargs: Any) -> None:
        events.append(("finished", threading.get_ident(), False))

    probe_site(settings, monkeypatch, view)
    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        handler = SyncChainASGIHandler(threads=1)
        serve(handler)
        serve(handler)
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert [name for name, _, _ in events] == ["started", "view", "finished"] * 2
    assert len({thread for _, thread, _ in events}) == 1
    assert [before for name, _, before in events if name == "view"] == [False, True]


def test_a_streamed_answer_is_sent_part_by_part_and_closed_when_the_client_leaves(
    settings: Any, monkeypatch: Any
) -> None:
    from django.http import HttpRequest, StreamingHttpResponse

    from platform_site.asgi import SyncChainASGIHandler

    produced: list[int] = []
    closed = threading.Event()

    def parts() -> Any:
        try:
            for number in range(50):
                produced.append(number)
                yield f"part {number}\n".encode()
        finally:
            closed.set()

    def view(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(parts(), content_type="text/event-stream")

    probe_site(settings, monkeypatch, view)

    sent = serve(SyncChainASGIHandler(), client_leaves_after=3)

    assert sent[0]["status"] == 200
    bodies = [m["body"] for m in sent[1:] if m.get("body")]
    assert bodies[:3] == [b"part 0\n", b"part 1\n", b"part 2\n"]
    assert closed.is_set()
    assert len(produced) < 10


def test_a_whole_streamed_answer_ends_with_an_empty_last_part(
    settings: Any, monkeypatch: Any
) -> None:
    from django.http import HttpRequest, StreamingHttpResponse

    from platform_site.asgi import SyncChainASGIHandler

    def view(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(iter([b"a", b"b"]))

    probe_site(settings, monkeypatch, view)

    sent = serve(SyncChainASGIHandler())

    assert [m.get("body") for m in sent[1:]] == [b"a", b"b", b""]
    assert sent[-1]["more_body"] is False


def test_the_request_threads_are_started_once_and_their_number_stays(
    settings: Any, monkeypatch: Any
) -> None:
    """ThreadPoolExecutor grew by a thread whenever a request came just as one finished."""
    from django.http import HttpResponse

    from platform_site.asgi import SyncChainASGIHandler

    def request_threads() -> int:
        # Only the handler's own: under pytest-xdist, threads other tests of this worker left
        # (fake servers, a probe) may end meanwhile.
        return sum(thread.name.startswith("request-") for thread in threading.enumerate())

    probe_site(settings, monkeypatch, lambda request: HttpResponse("ok"))
    before = request_threads()
    handler = SyncChainASGIHandler(threads=3)
    started = request_threads() - before

    async def many() -> None:
        for _ in range(20):
            await asyncio.gather(*(serve_async(handler) for _ in range(3)))

    asyncio.run(many())

    assert started == 3
    assert request_threads() - before == 3
