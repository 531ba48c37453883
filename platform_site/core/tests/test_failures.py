from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from platform_site.core.failures import Failure, failure_kind, failure_kind_get, failure_message

SAMPLE = failure_kind(
    "tests.sample",
    _("Le modèle n’a pas répondu dans les %(seconds)s secondes prévues."),
    retry=True,
    charged=False,
)
CONTEXT = failure_kind("tests.context", _("Pages %(pages)s :"), retry=True, charged=False)


def test_a_failure_is_worded_in_the_language_active_when_it_is_shown() -> None:
    with translation.override("fr"):
        failure = SAMPLE.failure(seconds=90, detail="read timeout")

    with translation.override("en"):
        english = failure.message
    with translation.override("fr"):
        french = failure.message

    assert english == "The model did not answer within the allowed 90 seconds."
    assert french == "Le modèle n’a pas répondu dans les 90 secondes prévues."
    assert failure.detail == "read timeout"


def test_a_callers_context_comes_before_the_wrappers_sentence() -> None:
    failure = SAMPLE.failure(seconds=5).in_context(CONTEXT, pages="3-5")

    with translation.override("en"):
        assert failure.message == (
            "Pages 3-5: The model did not answer within the allowed 5 seconds."
        )
    assert failure.code == "tests.sample"


def test_a_caller_that_knows_paid_work_was_done_charges_the_failure() -> None:
    failure = SAMPLE.failure()

    assert not failure.charged
    assert failure.with_charge(True).charged
    assert not failure.with_charge(False).charged


def test_a_missing_parameter_or_unknown_code_still_gives_a_sentence() -> None:
    with translation.override("fr"):
        assert failure_message("tests.sample", {}) == (
            "Le modèle n’a pas répondu dans les ? secondes prévues."
        )
        assert "erreur inattendue" in failure_message("tests.never-declared", {})
        assert failure_message("", {}) == ""


def test_declaring_a_code_twice_differently_is_refused() -> None:
    assert failure_kind_get("tests.sample") is SAMPLE
    assert failure_kind("tests.sample", SAMPLE.message, retry=True, charged=False) is SAMPLE

    with pytest.raises(ValueError, match="declared twice"):
        failure_kind("tests.sample", SAMPLE.message, retry=False, charged=False)


def test_rows_recorded_before_codes_show_their_stored_text() -> None:
    assert failure_message("legacy", {"message": "Ancien message."}) == "Ancien message."


def test_a_failure_is_plain_data() -> None:
    failure = Failure(kind=SAMPLE, params={"seconds": 3})

    assert failure.params == {"seconds": 3}
    assert failure.code == "tests.sample"
