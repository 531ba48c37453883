"""Per-process caps on costly work (LLM calls in flight, uploads held in memory).

One counting semaphore for both tools. Its size is read from the settings at each acquire,
so the operators' setting and the tests' overrides apply without a restart.
"""

from __future__ import annotations

import threading

from django.conf import settings


class ProcessSlots:
    def __init__(self, setting_name: str) -> None:
        self.setting_name = setting_name
        self._condition = threading.Condition()
        self._busy = 0

    def acquire(self, *, timeout_s: float) -> bool:
        """Take a slot, waiting at most `timeout_s` (0: do not wait) for one to free up."""
        with self._condition:
            return self._condition.wait_for(self._free_slot, timeout=timeout_s) and self._take()

    def try_acquire(self) -> bool:
        return self.acquire(timeout_s=0)

    def release(self) -> None:
        with self._condition:
            self._busy -= 1
            self._condition.notify()

    @property
    def busy(self) -> int:
        with self._condition:
            return self._busy

    def _free_slot(self) -> bool:
        return self._busy < int(getattr(settings, self.setting_name))

    def _take(self) -> bool:
        self._busy += 1
        return True
