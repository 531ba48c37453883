"""A total deadline on an outside call: connect plus every read, however slowly bytes come.

The HTTP clients' timeouts (requests, httpx) bound each socket operation, not the call: an
upstream that sends a byte every few seconds never trips them, and a question with a 90 s
timeout was answered after 130 s, with no upper bound. `call_deadline(seconds)` watches the
sockets the calling thread connects while it is active and shuts them down when the time is
up: the blocked read returns at once, the client raises (or sees the body end), and the
wrapper, seeing `expired`, reports its own timeout.

The sockets are found through CPython's audit event `socket.connect`, raised in the
connecting thread by every client library, so neither requests nor the Gemini SDK needs
patching. It only sees connections opened during the call: the clients open a new one per
call (no keep-alive between calls). TLS wraps a socket by taking over its file descriptor,
so a watched socket is also found by its descriptor, checked against the peer it connected
to before it is shut down.

This is the one total-deadline mechanism of every provider (the Gemini SDK, the openai SDK,
requests for the webhook). The other candidate, an HTTP transport that checks the clock
after each read, works only for clients whose transport we build: not requests, and the
Gemini SDK only by reaching into its options. The audit hook needs no cooperation from any.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_current = threading.local()
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class _Watched:
    sock: socket.socket
    fd: int
    peer: tuple[Any, ...]


class CallDeadline:
    """The sockets of one call and whether its time ran out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._watched: list[_Watched] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket, address: Any) -> None:
        peer = tuple(address) if isinstance(address, tuple) else (address,)
        with self._lock:
            self._watched.append(_Watched(sock=sock, fd=sock.fileno(), peer=peer))

    def start(self) -> None:
        """Start the clock (the connections are those opened inside `watching()`)."""
        _install()
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    @contextmanager
    def watching(self) -> Iterator[CallDeadline]:
        """Watch the connections this thread opens inside the block. A streamed answer opens
        its connection here, then is read across yields with the clock still running: the
        thread-local is not left set while other code runs between the pieces."""
        previous = getattr(_current, "deadline", None)
        _current.deadline = self
        try:
            yield self
        finally:
            _current.deadline = previous

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            watched = list(self._watched)
        for entry in watched:
            _shut_down(entry)


def _shut_down(entry: _Watched) -> None:
    if entry.sock.fileno() != -1:
        with contextlib.suppress(OSError):  # not connected yet, or already closed
            entry.sock.shutdown(socket.SHUT_RDWR)
        return
    # Detached (wrapped by TLS): the descriptor is the TLS socket's, if it is still ours.
    try:
        duplicate = socket.fromfd(entry.fd, entry.sock.family, entry.sock.type)
    except OSError:
        return
    with duplicate, contextlib.suppress(OSError):
        if duplicate.getpeername()[:2] == entry.peer[:2]:
            duplicate.shutdown(socket.SHUT_RDWR)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect":
        return
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(args[0], args[1])


def _install() -> None:
    global _installed
    with _install_lock:
        if not _installed:
            # An audit hook cannot be removed; it costs one comparison per audited event.
            sys.addaudithook(_audit)
            _installed = True


@contextmanager
def call_deadline(seconds: float) -> Iterator[CallDeadline]:
    """Cut every connection this thread opens inside the block once `seconds` have passed."""
    deadline = CallDeadline(seconds)
    deadline.start()
    try:
        with deadline.watching():
            yield deadline
    finally:
        deadline.cancel()
