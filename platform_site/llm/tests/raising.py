"""`raises_kind`: `pytest.raises` for an `LlmError` of one of the given kinds (any when none)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from platform_site.core.failures import FailureKind
from platform_site.llm.errors import LlmError


@contextmanager
def raises_kind(
    *kinds: FailureKind, match: str | None = None
) -> Iterator[pytest.ExceptionInfo[LlmError]]:
    with pytest.raises(LlmError, match=match) as raised:
        yield raised
    assert not kinds or raised.value.kind in kinds, repr(raised.value)
