"""Uploads of one user at the same moment never pass the last unit of the daily quota."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.factories import UserFactory
from latexocr.conversions import services
from latexocr.conversions.services import QuotaExceeded, conversion_create
from latexocr.models import Conversion
from latexocr.tests.factories import ConversionFactory
from tests.concurrency import needs_row_locks, run_at_once, slowed
from tests.pdfs import blank_pdf

pytestmark = needs_row_locks


@pytest.fixture(autouse=True)
def _stored_not_run(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The race is in storing: the conversions are queued, never run.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    monkeypatch.setattr(
        services, "conversion_quota_remaining", slowed(services.conversion_quota_remaining)
    )


def upload(owner: Any, n: int) -> Any:
    return lambda: conversion_create(
        owner=owner,
        pdf=blank_pdf(1),
        original_filename=f"td{n}.pdf",
        page_count=1,
        allow_duplicate=True,
    )


def test_two_uploads_at_once_on_the_last_unit_store_one(settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 2
    owner = UserFactory.create()
    ConversionFactory.create(owner=owner)

    outcomes = run_at_once([upload(owner, n) for n in range(2)])

    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "Conversion",
        "QuotaExceeded",
    ]
    assert Conversion.objects.filter(owner=owner).count() == 2


def test_many_uploads_at_once_never_exceed_the_quota(settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 3
    owner = UserFactory.create()

    outcomes = run_at_once([upload(owner, n) for n in range(6)])

    assert sum(isinstance(outcome, QuotaExceeded) for outcome in outcomes) == 3
    assert Conversion.objects.filter(owner=owner).count() == 3
