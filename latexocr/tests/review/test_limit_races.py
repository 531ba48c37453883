"""Repairs and edits of one user at the same moment, on different conversions, never pass the
last unit of their limit: the daily quota (repairs count in it) and the recompiles an hour.

Each conversion has its own row lock, so these requests do not wait on each other there: only
the lock on the user's row serialises their counts.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.review import services
from latexocr.review.services import (
    RecompileLimitReached,
    RepairQuotaExceeded,
    repair_request,
    version_edit,
)
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import BROKEN_DOCUMENT, tex_document
from tests.concurrency import needs_row_locks, run_at_once, slowed

pytestmark = needs_row_locks


@pytest.fixture(autouse=True)
def _queued_not_run(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def failing_conversion(owner: User) -> Conversion:
    """A done conversion whose version 1 fails to compile: a repair can be asked."""
    conversion = ConversionFactory.create(
        owner=owner, status=Conversion.Status.DONE, latex=BROKEN_DOCUMENT
    )
    Version.objects.create(
        conversion=conversion,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=BROKEN_DOCUMENT,
        compile_status=Version.CompileStatus.FAILS,
    )
    return conversion


def test_two_repairs_at_once_on_the_last_unit_queue_one(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        services, "conversion_quota_remaining", slowed(services.conversion_quota_remaining)
    )
    owner = UserFactory.create()
    conversions = [failing_conversion(owner) for _ in range(2)]
    settings.LATEXOCR_DAILY_QUOTA = 3  # two conversions today: one unit left

    outcomes = run_at_once([partial(repair_request, conversion=c, user=owner) for c in conversions])

    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "RepairQuotaExceeded",
        "RepairRequest",
    ]
    assert RepairRequest.objects.filter(owner=owner).count() == 1


def test_edits_at_once_over_several_conversions_never_exceed_the_recompiles_an_hour(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        services, "version_recompiles_left", slowed(services.version_recompiles_left)
    )
    settings.LATEXOCR_RECOMPILES_PER_HOUR = 2
    owner = UserFactory.create()
    conversions = [failing_conversion(owner) for _ in range(5)]

    outcomes = run_at_once(
        [
            partial(version_edit, conversion=c, user=owner, latex=tex_document("corrigé"))
            for c in conversions
        ]
    )

    assert sum(isinstance(outcome, RecompileLimitReached) for outcome in outcomes) == 3
    assert Version.objects.filter(conversion__owner=owner, origin="edited").count() == 2
    assert not any(isinstance(outcome, RepairQuotaExceeded) for outcome in outcomes)
