"""Slow request bodies: read by the event loop, cut with 408 below the floor rate."""

from __future__ import annotations

import asyncio
import runpy
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


def test_the_middleware_chain_and_the_view_run_in_one_thread_under_asgi(
    settings: Any, monkeypatch: Any
) -> None:
    """One hop into a thread per request: no async middleware adapter in between."""
    import threading

    from django.http import HttpRequest, HttpResponse, JsonResponse
    from django.urls import path

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

    module = type("urls", (), {"urlpatterns": [path("probe", view)]})
    monkeypatch.setitem(__import__("sys").modules, "probe_urls", module)
    settings.ROOT_URLCONF = "probe_urls"
    settings.MIDDLEWARE = [f"{__name__}.FIRST", *settings.MIDDLEWARE]
    monkeypatch.setitem(globals(), "FIRST", first_middleware)
    handler = SyncChainASGIHandler()
    sent: list[dict[str, Any]] = []
    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        await asyncio.sleep(10)  # the client waits for the answer (Django cancels this)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": "/probe", "query_string": b"",
        "headers": [(b"host", b"testserver")], "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
    }  # fmt: skip
    asyncio.run(handler(scope, receive, send))

    assert sent[0]["status"] == 200
    assert threads["middleware"] == threads["view"] != threading.get_ident()
    assert not asyncio.iscoroutinefunction(handler._middleware_chain)  # type: ignore[attr-defined]
