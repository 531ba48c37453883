"""The webhook wrapper, with the real requests client against the fake webhook on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from platform_site.llm import webhook
from platform_site.llm.errors import (
    NOT_CONFIGURED,
    TIMEOUT,
)
from platform_site.llm.registry import webhook_call
from platform_site.llm.tests.fakes.webhook import FakeWebhook, Reply
from platform_site.llm.tests.raising import raises_kind


def test_the_question_is_posted_as_json_and_the_text_reply_returned(
    fake_webhook: FakeWebhook,
) -> None:
    fake_webhook.queue(Reply(body="```python\nprint('é')\n```"))

    text = webhook.send(call=webhook_call(), message="Affiche é")

    assert text == "```python\nprint('é')\n```"
    assert fake_webhook.requests[0].body == {"message": "Affiche é"}
    assert "x-make-apikey" not in {name.lower() for name in fake_webhook.requests[0].headers}


def test_a_text_reply_without_charset_is_read_as_utf8(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(body="déjà vu", content_type="text/plain"))

    assert webhook.send(call=webhook_call(), message="x") == "déjà vu"


def test_the_api_key_travels_in_the_make_header(fake_webhook: FakeWebhook, settings: Any) -> None:
    settings.CODEGEN_WEBHOOK_API_KEY = "secret-key"
    fake_webhook.api_key = "secret-key"

    webhook.send(call=webhook_call(), message="x")

    assert fake_webhook.requests[0].headers["x-make-apikey"] == "secret-key"


def test_a_refused_api_key_names_the_setting(fake_webhook: FakeWebhook, settings: Any) -> None:
    settings.CODEGEN_WEBHOOK_API_KEY = "wrong"
    fake_webhook.api_key = "right"

    with raises_kind(match="CODEGEN_WEBHOOK_API_KEY") as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.status_code == 401
    assert fake_webhook.request_count == 1


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"answer": "a", "response": "r", "text": "t"}, "a"),
        ({"response": "r", "text": "t", "output": "o"}, "r"),
        ({"text": "t", "output": "o"}, "t"),
        ({"output": "o", "result": "res"}, "o"),
        ({"result": "res", "message": "m"}, "res"),
        ({"message": "m"}, "m"),
        ({"answer": "", "text": "t"}, "t"),
        ({"answer": 3, "output": "o"}, "o"),
        ({"choices": [{"message": {"role": "assistant", "content": "openai"}}]}, "openai"),
        ([{"answer": "first of a list"}], "first of a list"),
        ("a JSON string", "a JSON string"),
    ],
)
def test_a_json_reply_gives_the_first_text_field(
    fake_webhook: FakeWebhook, payload: Any, expected: str
) -> None:
    fake_webhook.queue(Reply.json(payload))

    assert webhook.send(call=webhook_call(), message="x") == expected


def test_a_json_body_sent_as_text_is_still_read_as_json(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(body='{"answer": "ok"}', content_type="text/plain"))

    assert webhook.send(call=webhook_call(), message="x") == "ok"


def test_a_json_reply_without_text_is_an_error(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply.json({"status": "done", "choices": []}))

    with raises_kind(match="without any text") as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.failure.code == "llm.answer_unusable"


def test_an_empty_body_is_an_error(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(body="  \n"))

    with raises_kind(match="without any text") as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.failure.code == "llm.answer_unusable"
    assert raised.value.failure.charged


def test_a_bare_accepted_tells_the_admin_to_add_a_webhook_response_module(
    fake_webhook: FakeWebhook,
) -> None:
    fake_webhook.queue(Reply.accepted())

    with raises_kind(match="Webhook response") as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.kind is not TIMEOUT
    assert fake_webhook.request_count == 1


def test_a_deactivated_webhook_410_tells_staff_and_not_the_student(
    fake_webhook: FakeWebhook,
) -> None:
    fake_webhook.queue(Reply.deactivated())

    with raises_kind(match="disabled") as raised:
        webhook.send(call=webhook_call(), message="x")

    failure = raised.value.failure
    assert "CODEGEN_WEBHOOK_URL" in failure.detail
    assert "webhook" not in failure.message.lower()
    assert not failure.kind.retry
    assert raised.value.status_code == 410
    assert fake_webhook.request_count == 1


def test_a_failed_scenario_is_not_retried(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply.scenario_failed())

    with raises_kind(match=r"Make\.com scenario failed"):
        webhook.send(call=webhook_call(), message="x")

    assert fake_webhook.request_count == 1


@pytest.mark.parametrize("status", [502, 503])
def test_a_502_or_503_is_retried_once_then_answers(fake_webhook: FakeWebhook, status: int) -> None:
    fake_webhook.queue(Reply(status=status, body="busy"))

    text = webhook.send(call=webhook_call(), message="x")

    assert "```python" in text
    assert fake_webhook.request_count == 2


def test_two_503_in_a_row_give_up_after_the_single_retry(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(status=503, body="busy"), Reply(status=503, body="busy"))

    with raises_kind() as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.status_code == 503
    assert fake_webhook.request_count == 2


def test_a_429_with_retry_after_is_retried_after_that_delay(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply.rate_limited(retry_after="1"))
    started = time.monotonic()

    webhook.send(call=webhook_call(), message="x")

    assert fake_webhook.request_count == 2
    assert time.monotonic() - started >= 1.0


def test_a_429_without_retry_after_is_not_retried(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply.rate_limited(retry_after=None))

    with raises_kind() as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.status_code == 429
    assert fake_webhook.request_count == 1


def test_a_retry_after_longer_than_the_time_left_is_not_waited(
    fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 2.0
    fake_webhook.queue(Reply.rate_limited(retry_after="60"))
    started = time.monotonic()

    with raises_kind():
        webhook.send(call=webhook_call(), message="x")

    assert time.monotonic() - started < 1.0
    assert fake_webhook.request_count == 1


def test_other_error_statuses_are_not_retried(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(status=500, body="Internal error"))

    with raises_kind(match="500"):
        webhook.send(call=webhook_call(), message="x")

    assert fake_webhook.request_count == 1


def test_a_slow_webhook_times_out_within_the_limit_and_is_not_asked_twice(
    fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 0.5
    fake_webhook.delay_s = 3.0
    started = time.monotonic()

    with raises_kind(TIMEOUT):
        webhook.send(call=webhook_call(), message="x")

    assert time.monotonic() - started < 1.5
    assert fake_webhook.request_count == 1


def test_a_retry_that_would_outlast_the_limit_is_not_attempted(
    fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 1.0
    settings.CODEGEN_RETRY_BACKOFF_S = 5.0
    fake_webhook.queue(Reply(status=503, body="busy"))

    with raises_kind():
        webhook.send(call=webhook_call(), message="x")

    assert fake_webhook.request_count == 1


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_retried_and_reaches_a_webhook_started_meanwhile(
    settings: Any,
) -> None:
    port = unused_port()
    settings.CODEGEN_WEBHOOK_URL = f"http://127.0.0.1:{port}/webhook"
    settings.CODEGEN_RETRY_BACKOFF_S = 0.3
    late = FakeWebhook(port=port)
    # Started while the wrapper waits before its retry: the first attempt found nobody.
    threading.Timer(0.1, late.start).start()
    try:
        text = webhook.send(call=webhook_call(), message="x")
    finally:
        late.stop()

    assert "```python" in text
    assert late.request_count == 1


def test_a_refused_connection_twice_is_an_upstream_error(settings: Any) -> None:
    settings.CODEGEN_WEBHOOK_URL = f"http://127.0.0.1:{unused_port()}/webhook"

    with raises_kind(match="unreachable") as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.kind is not TIMEOUT
    assert raised.value.failure.code == "llm.unreachable"
    assert not raised.value.failure.charged


def test_no_url_means_not_configured(settings: Any) -> None:
    settings.CODEGEN_WEBHOOK_URL = ""

    with raises_kind(NOT_CONFIGURED, match="CODEGEN_WEBHOOK_URL"):
        webhook.send(call=webhook_call(), message="x")


@pytest.mark.parametrize(
    "fault", [Reply.html_page(), Reply.truncated_json()], ids=["html page", "cut json"]
)
def test_a_200_that_is_not_an_answer_is_an_upstream_error_retried_once(
    fake_webhook: FakeWebhook, fault: Reply
) -> None:
    fake_webhook.queue(fault, fault)

    with raises_kind() as raised:
        webhook.send(call=webhook_call(), message="x")

    assert raised.value.kind is not TIMEOUT
    assert raised.value.status_code == 200
    assert fake_webhook.request_count == 2


def test_a_body_shorter_than_its_length_is_an_upstream_error(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(body="abc", headers={"Content-Length": "10"}))

    with raises_kind():
        webhook.send(call=webhook_call(), message="x")


def test_a_trickling_answer_is_cut_at_codegen_timeout_s(
    fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 1.0
    # A byte every 100 ms: each read gets data in time, the whole body would take 20 s.
    fake_webhook.queue(Reply(body="x" * 200, trickle_s=0.1))
    started = time.monotonic()

    with raises_kind(TIMEOUT):
        webhook.send(call=webhook_call(), message="x")

    assert time.monotonic() - started < 2.5
