"""One retry policy for every provider: which failures get another attempt, how long to wait,
and when to give up.

A provider marks a failed attempt worth repeating by raising `Retryable` (the `LlmError` to
report if no attempt succeeds, and the wait the server asked for, if any). `with_retries`
runs the attempts: exponential back-off with "equal jitter" (at least half of each step, so
parallel callers spread out without any of them hammering the server), never shorter than
the server's `Retry-After` (or Gemini's RetryInfo), and never a wait that would end past the
call's total deadline: then the last failure is reported at once.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from django.utils import timezone

from platform_site.llm.errors import LlmError

logger = logging.getLogger(__name__)

# Statuses worth another attempt: the server did not take the request, or timed out on it.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Retryable(Exception):
    """An attempt that failed in a way another attempt may fix."""

    def __init__(self, final: LlmError, *, server_delay_s: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.server_delay_s = server_delay_s


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    # The first back-off step; each further one doubles, up to `max_delay_s`.
    base_delay_s: float
    max_delay_s: float
    # The moment (time.monotonic()) after which no attempt starts; None: no bound.
    deadline: float | None = None

    def delay_s(self, failed_attempts: int, server_delay_s: float | None) -> float:
        step = self.base_delay_s * 2 ** (failed_attempts - 1)
        delay = step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not a secret
        if server_delay_s is not None:
            delay = max(delay, server_delay_s)
        return min(delay, self.max_delay_s)


def with_retries[Result](
    attempt: Callable[[], Result], *, policy: RetryPolicy, label: str
) -> Result:
    """Run `attempt` up to `policy.attempts` times, backing off between them."""
    for number in range(1, max(1, policy.attempts) + 1):
        try:
            return attempt()
        except Retryable as failure:
            delay = policy.delay_s(number, failure.server_delay_s)
            too_late = policy.deadline is not None and time.monotonic() + delay >= policy.deadline
            if number >= policy.attempts or too_late:
                raise failure.final from failure.__cause__
            logger.info(
                "%s attempt %d failed (%s), retrying in %.2fs", label, number, failure, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds a `retry-after-ms` or `Retry-After` header asks for (seconds or HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return _finite(float(milliseconds) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return _finite(float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def _finite(seconds: float) -> float | None:
    return max(0.0, seconds) if math.isfinite(seconds) else None
