"""A fake Make.com custom webhook on 127.0.0.1, for tests and benchmarks.

It takes `POST <any path>` with a JSON body `{"message": …}` and, by default, answers like a
Make scenario whose LLM module feeds a "Webhook response" module: plain text holding a
```python block followed by "**Explication :**". Tests script other answers with
`FakeWebhook.queue(Reply(...))` — Make's real failure shapes are ready-made: `Accepted`
(no response module), 429 with Retry-After, 410 (deactivated webhook), 500 "Scenario
failed to complete." — and the faults of a proxy or a broken upstream: `Reply.html_page()`
(200 with an HTML page), `Reply.truncated_json()` (200, JSON cut in the middle) and
`trickle_s` (the body sent one byte at a time) — and read what it received in `.requests`.
With `api_key` set it refuses (401) a request without the right `x-make-apikey` header, as
Make does.

Used two ways: the `fake_webhook` pytest fixture (a thread in the test process, settings
pointed at it) and `python -m platform_site.llm.tests.fakes.webhook --port P [--delay-s S]` (prints
`READY <port>` once listening).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from platform_site.llm.tests.fakes.server import FakeServer, QuietHandler

TEXT_PLAIN = "text/plain; charset=utf-8"


@dataclass
class Reply:
    """One scripted answer. `body=None`: the default LLM answer to the message received;
    `delay_s=None`: the fake's own delay."""

    status: int = 200
    body: str | None = None
    content_type: str = TEXT_PLAIN
    delay_s: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds between two bytes of the body (0: all at once).
    trickle_s: float = 0.0

    @classmethod
    def accepted(cls) -> Reply:
        """What Make answers at once when the scenario has no "Webhook response" module."""
        return cls(body="Accepted")

    @classmethod
    def rate_limited(cls, retry_after: str | None = "1") -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls(status=429, body="Too Many Requests", headers=headers)

    @classmethod
    def deactivated(cls) -> Reply:
        """A webhook left 5 days without a scenario."""
        return cls(status=410, body="There is no scenario listening for this webhook.")

    @classmethod
    def scenario_failed(cls) -> Reply:
        return cls(status=500, body="Scenario failed to complete.")

    @classmethod
    def html_page(cls) -> Reply:
        """A proxy's error page answered with 200, in place of the scenario's answer."""
        return cls(
            body="<!DOCTYPE html><html><head><title>Bad gateway</title></head>"
            "<body><h1>Upstream unavailable</h1></body></html>",
            content_type="text/html; charset=utf-8",
        )

    @classmethod
    def truncated_json(cls) -> Reply:
        """JSON cut in the middle (a proxy's buffer limit), with a matching length."""
        return cls(body='{"answer": "```python\\nprint(1', content_type="application/json")

    @classmethod
    def json(cls, payload: Any, *, status: int = 200) -> Reply:
        return cls(status=status, body=json.dumps(payload), content_type="application/json")


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: Any


def default_answer(message: str) -> str:
    """A reply shaped like an LLM's: prose, one ```python block, then the explanation."""
    subject = " ".join(message.split())[:120] or "le problème"
    return (
        "Voici une solution possible.\r\n\r\n"
        "```python\r\n"
        "def resoudre(valeurs: list[int]) -> int:\r\n"
        f'    """{subject.replace(chr(34), chr(39))}"""\r\n'
        "    total = 0\r\n"
        "    for valeur in valeurs:\r\n"
        "        total += valeur\r\n"
        "    return total\r\n"
        "\r\n"
        "\r\n"
        'if __name__ == "__main__":\r\n'
        "    print(resoudre([1, 2, 3]))\r\n"
        "```\r\n\r\n"
        "**Explication :**\r\n"
        "La fonction `resoudre` parcourt la liste une seule fois et accumule la somme "
        "dans `total` ; sa complexité est **linéaire**.\r\n\r\n"
        "- `valeurs` : la liste d'entiers reçue ;\r\n"
        "- la valeur renvoyée est la somme.\r\n"
    )


class FakeWebhook(FakeServer[Reply, ReceivedRequest]):
    """The server's state: scripted replies and every request received."""

    def __init__(self, *, port: int = 0, delay_s: float = 0.0, api_key: str | None = None) -> None:
        super().__init__(_handler_for(self), port=port, default_reply=Reply)
        self.delay_s = delay_s
        self.api_key = api_key

    @property
    def url(self) -> str:
        return f"{self.base_url}/webhook"


def _handler_for(fake: FakeWebhook) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            raw = self.read_body()
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            fake.record(
                ReceivedRequest(path=self.path, headers=dict(self.headers.items()), body=body)
            )
            if fake.api_key is not None and self.headers.get("x-make-apikey") != fake.api_key:
                self._send(Reply(status=401, body="Unauthorized"), "")
                return
            reply = fake.next_reply()
            fake.wait(fake.delay_s if reply.delay_s is None else reply.delay_s)
            message = body.get("message", "") if isinstance(body, dict) else ""
            self._send(reply, message if isinstance(message, str) else "")

        def _send(self, reply: Reply, message: str) -> None:
            payload = (reply.body if reply.body is not None else default_answer(message)).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.trickle_s:
                    self.write_trickling(
                        payload, seconds_per_byte=reply.trickle_s, stopping=fake.stopping
                    )
                else:
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (its read timeout): what a slow scenario sees too.
                pass

    return Handler


@pytest.fixture
def fake_webhook(settings: Any) -> Iterator[FakeWebhook]:
    """A running fake webhook, the codegen settings pointed at it, tiny retry pauses."""
    fake = FakeWebhook()
    fake.start()
    settings.CODEGEN_BACKEND = "webhook"
    settings.CODEGEN_WEBHOOK_URL = fake.url
    settings.CODEGEN_WEBHOOK_API_KEY = ""
    settings.CODEGEN_RETRY_BACKOFF_S = 0.01
    try:
        yield fake
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-s", type=float, default=0.0, help="wait before each answer")
    parser.add_argument("--api-key", default=None, help="require this x-make-apikey")
    arguments = parser.parse_args(argv)
    fake = FakeWebhook(port=arguments.port, delay_s=arguments.delay_s, api_key=arguments.api_key)
    fake.serve_from_command_line()


if __name__ == "__main__":
    main()
