"""What the fake Gemini and the fake webhook share: a threaded HTTP server on 127.0.0.1 that
answers with scripted replies (a default one when none is queued) and keeps every request."""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive like the real services, no access log on the test output."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def write_trickling(
        self, data: bytes, *, seconds_per_byte: float, stopping: threading.Event
    ) -> None:
        """Send `data` one byte at a time, like an upstream that trickles its answer: each
        read on the client's side gets a byte well within its per-read timeout."""
        try:
            for index in range(len(data)):
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
                if stopping.wait(seconds_per_byte):
                    return
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client cut the answer: what a total deadline does


class FakeServer[ReplyT, RequestT]:
    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        port: int,
        default_reply: Callable[[], ReplyT],
    ) -> None:
        self.requests: list[RequestT] = []
        self._default_reply = default_reply
        self._replies: deque[ReplyT] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def queue(self, *replies: ReplyT) -> None:
        """Answer the next requests with these replies, in order; then the default again."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> None:
        """Serve from a thread (the pytest fixtures)."""
        # A short poll interval so that stop() (each test's teardown) returns at once.
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        thread.start()

    def serve_from_command_line(self) -> None:
        """Serve in this process until interrupted; `READY <port>` tells the parent it may go."""
        print(f"READY {self.port}", flush=True)
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sys.stdout.flush()

    def stop(self) -> None:
        # Wakes the handlers still waiting out a delay, so teardown does not wait for them.
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    # --- what the handlers call -------------------------------------------------------

    def record(self, request: RequestT) -> None:
        with self._lock:
            self.requests.append(request)

    def next_reply(self) -> ReplyT:
        with self._lock:
            return self._replies.popleft() if self._replies else self._default_reply()

    def wait(self, seconds: float) -> None:
        """Sleep like a slow upstream, but wake up at once when the server stops."""
        self._stopping.wait(seconds)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping
