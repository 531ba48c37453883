"""The OpenAI-compatible wrapper against the loopback fake, through the real `openai` SDK."""

from __future__ import annotations

import time
from typing import Any

from platform_site.llm import openai_client
from platform_site.llm.errors import (
    BLOCKED,
    MALFORMED,
    NOT_CONFIGURED,
    RATE_LIMITED,
    REJECTED,
    TIMEOUT,
    UNREACHABLE,
    Image,
)
from platform_site.llm.registry import openai_connection, provider_for
from platform_site.llm.retry import retry_after_s
from platform_site.llm.tests.fakes.openai_compatible import FakeOpenAI, Reply, tokens
from platform_site.llm.tests.raising import raises_kind
from tests.servers import free_port

PNG_1X2 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000020806000000999a7d9e"
    "0000000d49444154789c63f8cfc0f01f0005ff02fe7f4b3e570000000049454e44ae426082"
)


def test_a_question_gets_the_text_finish_reason_and_token_counts(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(text="Bonjour.", prompt_tokens=12, completion_tokens=3))

    answer = openai_client.chat(
        connection=openai_connection(),
        model="fake-coder",
        prompt="Salut",
        system="Sois bref.",
        timeout_s=5,
    )

    assert answer.text == "Bonjour."
    assert answer.finish_reason == "stop"
    assert not answer.truncated
    assert (answer.input_tokens, answer.output_tokens) == (12, 3)
    sent = fake_openai.chat_requests()[0]
    assert sent.body["model"] == "fake-coder"
    assert sent.messages[0] == {"role": "system", "content": "Sois bref."}
    assert sent.messages[1] == {"role": "user", "content": "Salut"}


def test_images_go_as_image_url_parts_after_the_prompt(fake_openai: FakeOpenAI) -> None:
    answer = openai_client.chat(
        connection=openai_connection(),
        model="fake-vision",
        prompt="Transcris.",
        images=[Image(PNG_1X2, "image/png"), Image(PNG_1X2, "image/png")],
        timeout_s=5,
    )

    sent = fake_openai.chat_requests()[0]
    content = sent.messages[0]["content"]
    assert content[0] == {"type": "text", "text": "Transcris."}
    assert content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert sent.images == [PNG_1X2, PNG_1X2]
    assert "Image 2/2: 1x2" in answer.text


def test_a_cut_answer_is_marked_truncated(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(text="\\begin{doc", finish_reason="length"))

    answer = openai_client.chat(
        connection=openai_connection(), model="fake-vision", prompt="x", timeout_s=5
    )

    assert answer.truncated


def test_a_content_filter_stop_is_blocked(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(text="", finish_reason="content_filter"))

    with raises_kind(BLOCKED):
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
        )


def test_without_an_address_nothing_is_sent(settings: Any) -> None:
    settings.OPENAI_BASE_URL = ""

    provider = provider_for("codegen", "openai")
    assert provider is not None
    assert not provider.configured()
    with raises_kind(NOT_CONFIGURED) as raised:
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
        )
    assert "OPENAI" not in raised.value.failure.message


def test_a_wrong_key_is_a_rejection_without_retry(settings: Any) -> None:
    fake = FakeOpenAI(api_key="right")
    fake.start()
    settings.OPENAI_BASE_URL = fake.url
    settings.OPENAI_API_KEY = "wrong"
    try:
        with raises_kind(REJECTED) as raised:
            openai_client.chat(
                connection=openai_connection(),
                model="fake-coder",
                prompt="x",
                timeout_s=5,
                attempts=3,
            )
        settings.OPENAI_API_KEY = "right"
        assert openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
        ).text
    finally:
        fake.stop()
    assert raised.value.status_code == 401
    assert len(fake.chat_requests()) == 2


def test_an_unknown_model_is_a_rejection(fake_openai: FakeOpenAI) -> None:
    with raises_kind(REJECTED) as raised:
        openai_client.chat(
            connection=openai_connection(), model="absent", prompt="x", timeout_s=5, attempts=3
        )

    assert raised.value.status_code == 404
    assert len(fake_openai.chat_requests()) == 1


def test_a_429_is_retried_after_its_retry_after(fake_openai: FakeOpenAI, settings: Any) -> None:
    settings.OPENAI_RETRY_MAX_S = 5
    fake_openai.queue(Reply.rate_limited("1"))

    started = time.monotonic()
    answer = openai_client.chat(
        connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5, attempts=2
    )

    assert answer.text.startswith("Réponse à")
    assert time.monotonic() - started >= 1.0
    assert len(fake_openai.chat_requests()) == 2


def test_a_retry_after_beyond_the_deadline_gives_up_at_once(
    fake_openai: FakeOpenAI, settings: Any
) -> None:
    settings.OPENAI_RETRY_MAX_S = 60
    fake_openai.queue(Reply.rate_limited("30"))

    started = time.monotonic()
    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, REJECTED) as raised:
        openai_client.chat(
            connection=openai_connection(),
            model="fake-coder",
            prompt="x",
            timeout_s=2,
            attempts=3,
            deadline_s=2,
        )

    assert raised.value.status_code == 429
    assert time.monotonic() - started < 1
    assert len(fake_openai.chat_requests()) == 1


def test_5xx_are_retried_up_to_the_attempts(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(status=503), Reply(status=500), Reply(status=502))

    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, REJECTED) as raised:
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5, attempts=3
        )

    assert raised.value.status_code == 502
    assert len(fake_openai.chat_requests()) == 3


def test_a_malformed_body_is_retried_then_reported(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(raw_body="{not json"), Reply(raw_body='{"object": "chat.completion"}'))

    with raises_kind(MALFORMED):
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5, attempts=2
        )
    assert len(fake_openai.chat_requests()) == 2


def test_a_trickling_body_cannot_outlast_the_deadline(fake_openai: FakeOpenAI) -> None:
    # 8 bytes every 0.1 s: each read is quick, so only the total deadline can end it.
    fake_openai.queue(Reply(text="x" * 400, trickle_s=0.1))

    started = time.monotonic()
    with raises_kind(TIMEOUT) as raised:
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=1, attempts=1
        )

    assert time.monotonic() - started < 2
    assert "within 1 s" in str(raised.value)


def test_a_slow_server_times_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(text="tard", delay_s=3))

    with raises_kind(TIMEOUT):
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=0.5
        )


def test_a_refused_connection_is_an_unreachable_server(settings: Any) -> None:
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there

    with raises_kind(UNREACHABLE, RATE_LIMITED, MALFORMED, REJECTED) as raised:
        openai_client.chat(
            connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=2
        )
    assert raised.value.status_code is None


def test_a_stream_yields_the_tokens_in_order_then_the_whole_answer(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.queue(Reply(text="Un deux trois quatre."))

    stream = openai_client.chat_stream(
        connection=openai_connection(), model="fake-coder", prompt="Compte.", timeout_s=5
    )
    pieces = list(stream)

    assert pieces == tokens("Un deux trois quatre.")
    assert stream.answer is not None
    assert stream.answer.text == "Un deux trois quatre."
    assert stream.answer.output_tokens == 4
    assert fake_openai.chat_requests()[0].body["stream"] is True


def test_the_first_token_comes_before_the_whole_answer(settings: Any) -> None:
    fake = FakeOpenAI(seconds_per_token=0.05)
    fake.start()
    settings.OPENAI_BASE_URL = fake.url
    try:
        fake.queue(Reply(text=" ".join(["mot"] * 20)))
        started = time.monotonic()
        iterator = iter(
            openai_client.chat_stream(
                connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
            )
        )
        next(iterator)
        first = time.monotonic() - started
        list(iterator)
        whole = time.monotonic() - started
    finally:
        fake.stop()
    assert first < 0.5
    assert whole >= 0.9


def test_a_stream_refused_with_429_is_retried_before_any_text(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply.rate_limited("0"), Reply(text="ok"))

    stream = openai_client.chat_stream(
        connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5, attempts=2
    )

    assert "".join(stream) == "ok"
    assert len(fake_openai.chat_requests()) == 2


def test_a_malformed_event_ends_the_stream_with_an_error(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(raw_body="data: {oops\n\n"))

    with raises_kind(MALFORMED):
        list(
            openai_client.chat_stream(
                connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
            )
        )


def test_a_stream_without_a_finish_reason_is_malformed(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(
        Reply(raw_body='data: {"choices": [{"index": 0, "delta": {"content": "a"}}]}\n\n')
    )

    with raises_kind(MALFORMED):
        list(
            openai_client.chat_stream(
                connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=5
            )
        )


def test_a_trickling_stream_cannot_outlast_the_deadline(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply(text=" ".join(["mot"] * 200), trickle_s=0.05))

    started = time.monotonic()
    with raises_kind(TIMEOUT):
        list(
            openai_client.chat_stream(
                connection=openai_connection(), model="fake-coder", prompt="x", timeout_s=1
            )
        )
    assert time.monotonic() - started < 2


def test_the_models_are_listed(fake_openai: FakeOpenAI) -> None:
    assert openai_client.models_list(connection=openai_connection(), timeout_s=5) == [
        "fake-coder",
        "fake-vision",
    ]


def test_retry_after_reads_seconds_milliseconds_and_dates() -> None:
    assert retry_after_s({"retry-after": "7"}) == 7
    assert retry_after_s({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_s({}) is None
