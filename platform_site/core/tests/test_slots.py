from __future__ import annotations

import threading
from typing import Any

from platform_site.core.slots import ProcessSlots


def test_one_more_than_the_slots_waits_then_gives_up(settings: Any) -> None:
    settings.LATEXOCR_MAX_CONCURRENT_UPLOADS = 2
    slots = ProcessSlots("LATEXOCR_MAX_CONCURRENT_UPLOADS")

    assert slots.acquire(timeout_s=0)
    assert slots.acquire(timeout_s=0)
    assert not slots.acquire(timeout_s=0.05)
    assert slots.busy == 2


def test_a_released_slot_lets_the_waiter_in(settings: Any) -> None:
    settings.LATEXOCR_MAX_CONCURRENT_UPLOADS = 1
    slots = ProcessSlots("LATEXOCR_MAX_CONCURRENT_UPLOADS")
    slots.acquire(timeout_s=0)
    outcome: list[bool] = []
    waiter = threading.Thread(target=lambda: outcome.append(slots.acquire(timeout_s=5)))
    waiter.start()

    slots.release()
    waiter.join(timeout=5)

    assert outcome == [True]
    assert slots.busy == 1
