"""Per-process caps on costly work: password hashes, LLM calls in flight, uploads in progress.

Each cap is a `ProcessSlots` named after the setting that sizes it. The size is read at each
acquire, so the operators' setting and the tests' overrides apply without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings


class ProcessSlots:
    """At most `settings.<setting_name>` holders at once in this process."""

    def __init__(self, setting_name: str) -> None:
        self.setting_name = setting_name
        self._condition = threading.Condition()
        self._busy = 0

    def acquire(self, *, timeout_s: float | None = None) -> bool:
        """Take a slot, waiting at most `timeout_s` (0: not at all, None: as long as it takes).

        Returns False when no slot freed up in time. A True must be paired with `release()`.
        """
        with self._condition:
            has_free_slot = self._condition.wait_for(
                lambda: self._busy < self.size, timeout=timeout_s
            )
            if not has_free_slot:
                return False
            self._busy += 1
            return True

    def try_acquire(self) -> bool:
        """Take a slot only if one is free right now."""
        return self.acquire(timeout_s=0)

    def release(self) -> None:
        with self._condition:
            self._busy -= 1
            self._condition.notify()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot for the block, waiting as long as it takes for one."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    @property
    def size(self) -> int:
        return int(getattr(settings, self.setting_name))

    @property
    def busy(self) -> int:
        with self._condition:
            return self._busy
