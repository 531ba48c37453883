"""The self-hosted backend (CODEGEN_BACKEND=openai): same instructions, parser, statuses and
quota as the others, against the loopback fake through the real `openai` SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from codegen.backends import SYSTEM_INSTRUCTION
from codegen.models import Question
from codegen.services import question_create, question_send
from platform_site.llm.errors import (
    TIMEOUT,
)
from platform_site.llm.tests.fakes.openai_compatible import FakeOpenAI, Reply
from platform_site.llm.tests.raising import raises_kind

pytestmark = pytest.mark.django_db

SEND = "/codegen/send/"


@pytest.fixture
def openai_backend(settings: Any, fake_openai: FakeOpenAI) -> FakeOpenAI:
    settings.CODEGEN_BACKEND = "openai"
    return fake_openai


def send(client: Client, message: str) -> Any:
    return client.post(SEND, data=json.dumps({"message": message}), content_type="application/json")


def test_the_question_goes_with_the_gemini_instructions_and_is_parsed_the_same_way(
    user: User, openai_backend: FakeOpenAI
) -> None:
    openai_backend.queue(Reply(text="```python\nprint(42)\n```\nExplication : affiche 42."))

    question = question_send(question=question_create(user=user, message="Affiche 42"))

    assert question.backend == Question.Backend.OPENAI
    assert question.status == Question.Status.ANSWERED
    assert question.code == "print(42)"
    assert question.explanation == "affiche 42."
    sent = openai_backend.chat_requests()[0]
    assert sent.body["model"] == "fake-coder"
    assert sent.messages == [
        {"role": "system", "content": SYSTEM_INSTRUCTION},
        {"role": "user", "content": "Affiche 42"},
    ]


def test_the_json_api_answers_through_the_model_server(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    response = send(logged_in, "Somme d'une liste")

    assert response.status_code == 200
    assert "def resoudre" in response.json()["code"]
    assert response.json()["syntax_valid"] is True


def test_without_a_server_address_the_api_says_503_in_student_words(
    logged_in: Client, settings: Any
) -> None:
    settings.CODEGEN_BACKEND = "openai"
    settings.OPENAI_BASE_URL = ""

    response = send(logged_in, "x")

    assert response.status_code == 503
    assert "OPENAI" not in response.json()["error"]
    assert not Question.objects.exists()


def test_a_server_error_is_a_502_after_one_retry(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    openai_backend.queue(Reply(status=500), Reply(status=503))

    response = send(logged_in, "x")

    assert response.status_code == 502
    assert "injoignable" in response.json()["error"]
    assert "503" in Question.objects.get().error_detail
    assert len(openai_backend.chat_requests()) == 2


def test_a_429_then_an_answer_is_an_answer(logged_in: Client, openai_backend: FakeOpenAI) -> None:
    openai_backend.queue(Reply.rate_limited("0"))

    assert send(logged_in, "x").status_code == 200
    assert len(openai_backend.chat_requests()) == 2


def test_a_slow_server_is_a_504_without_a_second_call(
    user: User, settings: Any, openai_backend: FakeOpenAI
) -> None:
    settings.CODEGEN_TIMEOUT_S = 1.0
    openai_backend.queue(Reply(text="trop tard", delay_s=3.0))

    with raises_kind(TIMEOUT):
        question_send(question=question_create(user=user, message="x"))

    assert len(openai_backend.chat_requests()) == 1
    assert "à temps" in Question.objects.get().error_message
    assert "within 1 s" in Question.objects.get().error_detail


def test_a_cut_answer_is_a_failure_not_an_answer(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    openai_backend.queue(Reply(text="```python\nprint(", finish_reason="length"))

    response = send(logged_in, "x")

    assert response.status_code == 502
    assert "coupée" in response.json()["error"]
    assert Question.objects.get().status == Question.Status.FAILED


def test_a_malformed_body_is_a_502(logged_in: Client, openai_backend: FakeOpenAI) -> None:
    openai_backend.queue(Reply(raw_body="<html>proxy error</html>"), Reply(raw_body="{}"))

    assert send(logged_in, "x").status_code == 502


def test_the_quota_counts_self_hosted_questions_too(
    logged_in: Client, settings: Any, openai_backend: FakeOpenAI
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1

    assert send(logged_in, "x").status_code == 200
    assert send(logged_in, "y").status_code == 429
    assert len(openai_backend.chat_requests()) == 1


def test_the_page_without_a_model_name_explains_without_setting_names(
    logged_in: Client, settings: Any
) -> None:
    settings.CODEGEN_BACKEND = "openai"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    settings.CODEGEN_OPENAI_MODEL = ""

    page = logged_in.get("/codegen/").content.decode()

    assert "La génération de code n’est pas encore disponible sur ce site" in page
    assert "CODEGEN_OPENAI_MODEL" not in page


# --- the streamed answer (server-sent events on the POST's response) ------------------

STREAM = "/codegen/stream/"


def events_of(response: Any) -> list[tuple[str, dict[str, Any]]]:
    body = b"".join(response.streaming_content).decode()
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def stream(client: Client, message: str) -> Any:
    return client.post(
        STREAM, data=json.dumps({"message": message}), content_type="application/json"
    )


def test_the_answer_streams_token_by_token_then_comes_whole_and_rendered(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    response = stream(logged_in, "Somme d'une liste")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    events = events_of(response)
    names = [name for name, _data in events]
    assert names[0] == "question" and names[-1] == "done"
    assert names.count("token") > 20
    question = Question.objects.get()
    assert "".join(data["text"] for name, data in events if name == "token") == question.reply
    done = events[-1][1]
    assert done["id"] == question.pk == events[0][1]["id"]
    assert "def resoudre" in done["code"] and done["syntax_valid"] is True
    assert question.status == Question.Status.ANSWERED
    assert openai_backend.chat_requests()[0].body["stream"] is True


def test_a_failed_stream_ends_with_an_error_event_and_a_failed_question(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    openai_backend.queue(Reply(status=500), Reply(status=500))

    events = events_of(stream(logged_in, "x"))

    name, data = events[-1]
    assert name == "error"
    assert data["status"] == 502
    assert data["retry_url"]
    assert Question.objects.get().status == Question.Status.FAILED


def test_a_streamed_answer_cut_by_the_length_limit_is_a_failure(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    openai_backend.queue(Reply(text="```python\nprint(", finish_reason="length"))

    name, data = events_of(stream(logged_in, "x"))[-1]

    assert name == "error"
    assert "coupée" in data["error"]
    assert Question.objects.get().status == Question.Status.FAILED


def test_a_quota_refusal_comes_before_the_stream_as_json(
    logged_in: Client, settings: Any, openai_backend: FakeOpenAI
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1
    events_of(stream(logged_in, "x"))

    response = stream(logged_in, "y")

    assert response.status_code == 429
    assert "error" in response.json()


def test_the_stream_needs_a_login_and_a_streaming_backend(logged_in: Client, settings: Any) -> None:
    settings.CODEGEN_BACKEND = "webhook"
    assert stream(logged_in, "x").status_code == 404
    logged_in.logout()
    assert stream(logged_in, "x").status_code == 401


def test_the_page_offers_the_stream_only_when_the_backend_streams(
    logged_in: Client, settings: Any, openai_backend: FakeOpenAI
) -> None:
    assert 'data-stream-url="/codegen/stream/"' in logged_in.get("/codegen/").content.decode()
    settings.CODEGEN_OPENAI_STREAM = False
    assert "data-stream-url" not in logged_in.get("/codegen/").content.decode()


def test_the_form_without_javascript_still_gets_the_whole_answer(
    logged_in: Client, openai_backend: FakeOpenAI
) -> None:
    response = logged_in.post("/codegen/", {"message": "Somme d'une liste"})

    question = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/codegen/{question.pk}/"
    assert question.status == Question.Status.ANSWERED
    assert "stream" not in openai_backend.chat_requests()[0].body
