from __future__ import annotations

from datetime import timedelta

import pytest

from platform_site.templatetags.ui import minutes_text


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (timedelta(minutes=15), "15 minutes"),
        (timedelta(seconds=61), "2 minutes"),
        (timedelta(seconds=10), "1 minute"),
        (None, ""),
    ],
)
def test_minutes_text_rounds_a_wait_up_to_whole_minutes(
    duration: timedelta | None, expected: str
) -> None:
    assert minutes_text(duration) == expected
