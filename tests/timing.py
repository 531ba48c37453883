"""Growth of CPU time with the input, for the tests that guard against quadratic parsing.

A bound in seconds fails on a slow or busy machine (1.14 s against 1 s on one CI machine) and
belongs to the benchmarks; what these tests are about is the shape: a hostile input four
times larger must cost about four times more, where a quadratic scan costs sixteen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MAX_GROWTH = 10  # for 4x the input: linear ~4 (up to 5.7 measured), quadratic ~16
# Below this, the whole input is handled too fast for a ratio to mean anything.
NEGLIGIBLE_S = 0.05


def _cpu_seconds[T](work: Callable[[], T]) -> tuple[float, T]:
    """Best of three runs (the least disturbed), and the last result."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        result = work()
        best = min(best, time.process_time() - started)
    return best, result


def assert_linear_time[T](make_input: Callable[[int], str], work: Callable[[str], T]) -> T:
    """`work` on `make_input(1)` (the whole input) and on `make_input(4)` (a quarter): the
    whole may take at most MAX_GROWTH times the quarter. Returns the whole input's result."""
    quarter_s, _ = _cpu_seconds(lambda: work(make_input(4)))
    whole_s, result = _cpu_seconds(lambda: work(make_input(1)))
    if whole_s >= NEGLIGIBLE_S:
        assert whole_s <= MAX_GROWTH * quarter_s, (
            f"{whole_s:.3f} s for the whole input against {quarter_s:.3f} s for a quarter"
        )
    return result
