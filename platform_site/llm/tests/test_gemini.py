"""The Gemini wrapper against the fake Gemini server: real SDK, real HTTP, our retries."""

from __future__ import annotations

import base64
import socket
import time
from typing import Any

import pytest

from platform_site.llm import gemini
from platform_site.llm.errors import (
    BLOCKED,
    MALFORMED,
    NOT_CONFIGURED,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNREACHABLE,
    Answer,
)
from platform_site.llm.registry import gemini_connection
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
from platform_site.llm.tests.raising import raises_kind
from tests.pdfs import pdf_with_text

MODEL = "gemini-3.8-flash"
DAILY_QUOTA = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
MINUTE_QUOTA = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"


def ask(**overrides: Any) -> Answer:
    arguments: dict[str, Any] = {
        "connection": gemini_connection(),
        "model": MODEL,
        "prompt": "Transcris.",
        "timeout_s": 5,
    }
    return gemini.generate(**{**arguments, **overrides})


def test_generate_without_a_key_raises_not_configured(settings: Any) -> None:
    settings.GEMINI_API_KEY = ""

    with raises_kind(NOT_CONFIGURED):
        ask()


def test_generate_sends_the_pdf_inline_and_returns_text_tokens_and_model(
    fake_gemini: FakeGemini,
) -> None:
    pdf = pdf_with_text(["Premier exercice", "Second exercice"])

    answer = ask(pdf=pdf)

    assert "\\section*{Page 1/2}" in answer.text
    assert "Second exercice" in answer.text
    assert answer.finish_reason == "STOP"
    assert answer.truncated is False
    assert answer.input_tokens is not None and answer.input_tokens >= 2 * 560
    assert answer.output_tokens == len(answer.text) // 4
    assert answer.model == MODEL
    [request] = fake_gemini.generate_requests()
    assert request.headers["x-goog-api-key"] == "fake-gemini-key"
    assert request.model == MODEL
    inline = request.body["contents"][0]["parts"][0]["inline_data"]
    assert inline["mime_type"] == "application/pdf"
    assert base64.urlsafe_b64decode(inline["data"]) == pdf
    assert fake_gemini.files == {}


def test_generate_passes_system_instruction_output_limit_and_thinking_level(
    fake_gemini: FakeGemini,
) -> None:
    ask(system_instruction="Tu es précis.", max_output_tokens=1234, thinking_level="LOW")

    [request] = fake_gemini.generate_requests()
    assert request.body["system_instruction"]["parts"][0]["text"] == "Tu es précis."
    config = request.body["generation_config"]
    assert config["max_output_tokens"] == 1234
    assert config["thinking_config"]["thinking_level"] == "LOW"


def test_a_429_then_success_is_retried_and_succeeds(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(status=429, quota_id=MINUTE_QUOTA))

    answer = ask(attempts=3)

    assert answer.text.startswith("Réponse à")
    assert len(fake_gemini.generate_requests()) == 2


def test_a_503_on_every_attempt_raises_upstream_error_after_all_attempts(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.queue(*[Reply(status=503)] * 4)

    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, QUOTA_EXHAUSTED, REJECTED) as raised:
        ask(attempts=4)

    assert raised.value.status_code == 503
    assert len(fake_gemini.generate_requests()) == 4


def test_a_500_then_success_is_retried(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(status=500))

    ask(attempts=2)

    assert len(fake_gemini.generate_requests()) == 2


def test_a_daily_quota_429_raises_quota_exhausted_without_retrying(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.queue(*[Reply(status=429, quota_id=DAILY_QUOTA, retry_delay="3600s")] * 4)

    with raises_kind(QUOTA_EXHAUSTED) as raised:
        ask(attempts=4)

    assert raised.value.status_code == 429
    assert len(fake_gemini.generate_requests()) == 1


@pytest.mark.parametrize("status", [400, 403])
def test_a_400_or_403_raises_rejected_without_retrying(
    fake_gemini: FakeGemini, status: int
) -> None:
    fake_gemini.queue(*[Reply(status=status)] * 4)

    with raises_kind(REJECTED) as raised:
        ask(attempts=4)

    assert raised.value.status_code == status
    assert len(fake_gemini.generate_requests()) == 1


def test_a_wrong_key_is_rejected(fake_gemini: FakeGemini) -> None:
    fake_gemini.api_key = "the-right-key"

    with raises_kind(REJECTED) as raised:
        ask(attempts=3)

    assert raised.value.status_code == 400
    assert len(fake_gemini.generate_requests()) == 1


def test_a_slow_answer_times_out_and_is_retried(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(delay_s=1.0))

    answer = ask(timeout_s=0.2, attempts=2)

    assert answer.finish_reason == "STOP"
    assert len(fake_gemini.generate_requests()) == 2


def test_every_attempt_timing_out_raises_gemini_timeout(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(delay_s=1.0), Reply(delay_s=1.0))

    with raises_kind(TIMEOUT):
        ask(timeout_s=0.2, attempts=2)

    assert len(fake_gemini.generate_requests()) == 2


def test_an_unreachable_server_raises_upstream_error_without_status(settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    settings.GEMINI_API_KEY = "any"
    settings.GEMINI_BASE_URL = f"http://127.0.0.1:{free_port}"
    settings.GEMINI_RETRY_BASE_S = 0.001

    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, QUOTA_EXHAUSTED, REJECTED) as raised:
        ask(attempts=2)

    assert raised.value.status_code is None


def test_the_server_retry_delay_is_honoured_up_to_the_cap(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.GEMINI_RETRY_MAX_S = 0.3
    fake_gemini.queue(Reply(status=429, quota_id=MINUTE_QUOTA, retry_delay="0.25s"))

    started = time.monotonic()
    ask(attempts=2)

    assert time.monotonic() - started >= 0.25


def test_a_max_tokens_answer_is_reported_as_truncated(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(
        Reply(text="\\documentclass{article}\n\\begin{doc", finish_reason="MAX_TOKENS")
    )

    answer = ask()

    assert answer.truncated is True
    assert answer.finish_reason == "MAX_TOKENS"


def test_a_max_tokens_answer_without_text_is_still_an_answer(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(text="", finish_reason="MAX_TOKENS"))

    answer = ask()

    assert (answer.text, answer.truncated) == ("", True)


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "PROHIBITED_CONTENT", "OTHER"])
def test_a_blocked_answer_raises_gemini_blocked(fake_gemini: FakeGemini, reason: str) -> None:
    fake_gemini.queue(Reply(text="", finish_reason=reason))

    with raises_kind(BLOCKED) as raised:
        ask(attempts=3)

    assert reason in str(raised.value)
    assert len(fake_gemini.generate_requests()) == 1


def test_a_pdf_above_the_inline_limit_goes_through_the_files_api_and_is_deleted(
    fake_gemini: FakeGemini, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.GEMINI_INLINE_PDF_MAX_MB = 0
    monkeypatch.setattr(gemini, "FILE_POLL_INTERVAL_S", 0.01)
    fake_gemini.file_processing_polls = 2
    pdf = pdf_with_text(["Une page envoyée par fichier"])

    answer = ask(pdf=pdf)

    assert "Une page envoyée par fichier" in answer.text
    [request] = fake_gemini.generate_requests()
    file_part = request.body["contents"][0]["parts"][0]["file_data"]
    assert file_part["mime_type"] == "application/pdf"
    assert request.pdf_pages == 1
    assert len(fake_gemini.deleted_files) == 1
    assert fake_gemini.files == {}
    polls = [r for r in fake_gemini.requests if r.method == "GET"]
    assert len(polls) == 2


def test_an_uploaded_file_is_deleted_even_when_generation_fails(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.GEMINI_INLINE_PDF_MAX_MB = 0
    fake_gemini.queue(Reply(status=400))

    with raises_kind(REJECTED):
        ask(pdf=pdf_with_text(["x"]))

    assert len(fake_gemini.deleted_files) == 1
    assert fake_gemini.files == {}


def test_retries_through_the_files_api_upload_the_pdf_once(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.GEMINI_INLINE_PDF_MAX_MB = 0
    fake_gemini.queue(Reply(status=503), Reply(status=503))

    ask(pdf=pdf_with_text(["x"]), attempts=3)

    starts = [r for r in fake_gemini.requests if r.path.endswith("/files") and r.body is not None]
    assert len([s for s in starts if "command" not in s.body]) == 1
    assert len(fake_gemini.generate_requests()) == 3


@pytest.mark.parametrize("fault", [Reply.html_page(), Reply.truncated_json()], ids=["html", "cut"])
def test_a_200_whose_body_is_not_geminis_json_is_an_upstream_error_retried(
    fake_gemini: FakeGemini, fault: Reply
) -> None:
    fake_gemini.queue(fault, fault)

    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, QUOTA_EXHAUSTED, REJECTED) as raised:
        ask(attempts=2)

    assert raised.value.status_code == 200
    assert len(fake_gemini.generate_requests()) == 2


def test_a_body_that_is_not_json_then_a_good_one_is_an_answer(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.html_page())

    assert ask(attempts=2).text


def test_a_trickling_answer_is_cut_at_the_total_deadline(fake_gemini: FakeGemini) -> None:
    # A byte every 50 ms: no single read ever waits long, the whole answer would take ~20 s.
    fake_gemini.queue(Reply(text="x" * 200, trickle_s=0.05))
    started = time.monotonic()

    with raises_kind(TIMEOUT):
        ask(timeout_s=1.0, attempts=1)

    assert time.monotonic() - started < 3.0


def test_a_trickling_files_api_upload_is_cut_at_the_total_deadline(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.GEMINI_INLINE_PDF_MAX_MB = 0
    fake_gemini.queue(Reply(text="x" * 200, trickle_s=0.05))
    started = time.monotonic()

    with raises_kind(TIMEOUT):
        ask(pdf=pdf_with_text(["Bonjour"]), timeout_s=1.0, attempts=1)

    assert time.monotonic() - started < 4.0
