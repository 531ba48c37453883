"""The shared failure kinds, and the codes stored before them still worded when shown."""

from __future__ import annotations

import pytest
from django.utils import translation

from platform_site.core.failures import failure_kind_get, failure_message
from platform_site.llm.errors import (
    ANSWER_CUT,
    ANSWER_UNUSABLE,
    OLD_CODES,
    TIMEOUT,
    Answer,
    LlmError,
    answer_text,
)
from platform_site.llm.tests.raising import raises_kind


@pytest.mark.parametrize("code", sorted(OLD_CODES))
def test_a_code_stored_before_the_shared_kinds_still_reads_in_french_and_english(
    code: str,
) -> None:
    kind = OLD_CODES[code]

    with translation.override("fr"):
        french = failure_message(code, {"seconds": 90, "status": 503})
    with translation.override("en"):
        english = failure_message(code, {"seconds": 90, "status": 503})

    assert failure_kind_get(code) is kind
    assert french == failure_message(kind.code, {}) != ""
    assert english != french
    assert "?" not in french + english


def test_an_old_timeout_code_reads_as_the_shared_timeout() -> None:
    with translation.override("en"):
        assert failure_message("gemini.timeout", {}) == failure_message(TIMEOUT.code, {})
        assert "Gemini" not in failure_message("gemini.timeout", {})


def test_the_old_codes_keep_whether_a_retry_is_offered() -> None:
    assert OLD_CODES["webhook.misconfigured"].retry is False
    assert OLD_CODES["webhook.reply_too_large"].retry is False
    assert OLD_CODES["webhook.reply_cut"].retry is True
    assert OLD_CODES["gemini.quota_exhausted"].retry is True


def test_an_error_keeps_the_vendors_words_for_staff_only() -> None:
    error = LlmError(TIMEOUT, "Gemini answered 408 DEADLINE_EXCEEDED", status_code=408)

    failure = error.failure

    assert failure.code == "llm.timeout"
    assert failure.detail == "Gemini answered 408 DEADLINE_EXCEEDED"
    assert "Gemini" not in failure.message
    assert error.status_code == 408


def test_a_cut_or_empty_answer_cannot_serve() -> None:
    with raises_kind(ANSWER_CUT):
        answer_text(Answer(text="print(", model="m", finish_reason="length", truncated=True))
    with raises_kind(ANSWER_UNUSABLE):
        answer_text(Answer(text="  ", model="m", finish_reason="stop"))
    assert answer_text(Answer(text="ok", model="m")) == "ok"
