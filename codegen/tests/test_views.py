from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from accounts.tests.factories import UserFactory
from codegen.models import Question
from codegen.services import in_flight
from codegen.tests.factories import (
    AnsweredQuestionFactory,
    FailedQuestionFactory,
    QuestionFactory,
)
from platform_site.llm.tests.fakes.gemini import FakeGemini
from platform_site.llm.tests.fakes.webhook import FakeWebhook, Reply

pytestmark = pytest.mark.django_db

SEND = "/codegen/send/"
SCRIPT_REPLY = (
    "```python\nprint('ok')\n```\n**Explication :** voici <script>alert('x')</script> "
    'et <b onclick="alert(2)">gras</b>.'
)


def send(client: Client, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(SEND, data=data, content_type="application/json", **extra)


# --- the JSON API -----------------------------------------------------------------------


def test_a_question_gets_its_code_and_explanation(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    response = send(logged_in, {"message": "Somme d'une liste"})

    assert response.status_code == 200
    answer = response.json()
    question = Question.objects.get()
    assert answer["id"] == question.pk
    assert answer["code"].startswith("def resoudre(")
    assert answer["explanation"].startswith("La fonction `resoudre`")
    assert answer["syntax_valid"] is True
    assert 'class="highlight"' in answer["code_html"]
    assert "<strong>linéaire</strong>" in answer["explanation_html"]
    assert answer["download_url"] == f"/codegen/{question.pk}/download/"
    assert fake_webhook.requests[0].body == {"message": "Somme d'une liste"}


def test_an_answer_with_a_syntax_error_reports_its_line(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(body="```python\nx = 1\ndef f(:\n```\nExplication : cassé."))

    answer = send(logged_in, {"message": "x"}).json()

    assert answer["syntax_valid"] is False
    assert answer["syntax_error_line"] == 2


def test_the_api_answers_401_json_when_not_logged_in() -> None:
    # Without a CSRF token too, as a script would call it: the 401 comes first.
    response = send(Client(enforce_csrf_checks=True), {"message": "x"})

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()


def test_the_api_enforces_the_csrf_token(user: User, fake_webhook: FakeWebhook) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    assert send(client, {"message": "x"}).status_code == 403
    client.get("/codegen/")
    token = client.cookies["csrftoken"].value
    assert send(client, {"message": "x"}, HTTP_X_CSRFTOKEN=token).status_code == 200


@pytest.mark.parametrize(
    "body",
    ["pas du json", b"\xff\xfe", json.dumps(["message"]), {}, {"message": 42}, {"message": "  "}],
    ids=["not-json", "not-utf8", "not-an-object", "missing", "not-a-string", "blank"],
)
def test_a_bad_body_is_a_400_json_error(logged_in: Client, body: Any) -> None:
    response = send(logged_in, body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert not Question.objects.exists()


def test_a_message_over_the_limit_is_a_413(logged_in: Client, settings: Any) -> None:
    settings.CODEGEN_MAX_MESSAGE_CHARS = 10

    response = send(logged_in, {"message": "x" * 11})

    assert response.status_code == 413
    assert "10" in response.json()["error"]
    assert send(logged_in, {"message": "x" * 10}).status_code != 413


def test_a_used_up_quota_is_a_429(
    logged_in: Client, user: User, settings: Any, fake_webhook: FakeWebhook
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1
    AnsweredQuestionFactory.create(user=user)

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 429
    assert response.json()["quota_remaining"] == 0
    assert Question.objects.count() == 1


def test_every_answer_carries_the_questions_left_as_the_pages_sentence(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 3
    fake_webhook.queue(Reply(), Reply(status=500, body="Scenario failed to complete."))

    answered = send(logged_in, {"message": "Somme d'une liste"}).json()
    failed = send(logged_in, {"message": "Moyenne d'une liste"}).json()

    assert answered["quota_remaining"] == 2
    assert answered["quota_text"] == "Il vous reste 2 questions sur 3 aujourd’hui."
    # The scenario failed before answering: nothing was paid, nothing is counted.
    assert failed["quota_remaining"] == 2
    assert failed["quota_text"] == "Il vous reste 2 questions sur 3 aujourd’hui."


def test_a_full_in_flight_cap_is_a_429_with_a_message(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_IN_FLIGHT = 1
    assert in_flight.try_acquire()
    try:
        response = send(logged_in, {"message": "x"})
    finally:
        in_flight.release()

    assert response.status_code == 429
    assert "en cours" in response.json()["error"]
    assert fake_webhook.request_count == 0


@pytest.mark.parametrize(
    ("reply", "code", "retry", "charged"),
    [
        (Reply(status=500, body="Internal Server Error"), "llm.unreachable", True, False),
        (Reply.scenario_failed(), "llm.unreachable", True, False),
        (Reply.accepted(), "llm.rejected", False, False),
        (Reply.deactivated(), "llm.rejected", False, False),
        (Reply(body=""), "llm.answer_unusable", True, True),
        (Reply.json({"status": "ok"}), "llm.answer_unusable", True, True),
        (Reply.rate_limited(retry_after=None), "llm.rate_limited", True, False),
    ],
    ids=["500", "scenario-failed", "accepted", "410", "empty", "json-without-text", "429"],
)
def test_an_upstream_failure_is_a_502_and_the_question_stays_failed(
    logged_in: Client,
    fake_webhook: FakeWebhook,
    reply: Reply,
    code: str,
    retry: bool,
    charged: bool,
) -> None:
    fake_webhook.queue(reply)

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 502
    answer = response.json()
    question = Question.objects.get()
    assert answer["error_code"] == code == question.error_code
    assert answer["error"] == question.error_message
    for operator_word in ("webhook", "make", "codegen_", "scénario"):
        assert operator_word not in answer["error"].lower()
    assert question.status == Question.Status.FAILED
    assert question.charged is charged
    assert answer["id"] == question.pk
    assert answer["retry_url"] == (f"/codegen/{question.pk}/retry/" if retry else "")


def test_a_503_from_the_webhook_is_retried_and_answered(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(status=503, body="Service Unavailable"))

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 200
    assert fake_webhook.request_count == 2


def test_two_503_from_the_webhook_are_answered_502_never_503(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(status=503, body="busy"), Reply(status=503, body="busy"))

    assert send(logged_in, {"message": "x"}).status_code == 502


def test_a_slow_webhook_is_a_504_within_the_timeout(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 0.5
    fake_webhook.delay_s = 5.0
    started = time.monotonic()

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 504
    assert time.monotonic() - started < 2.0
    assert fake_webhook.request_count == 1
    assert Question.objects.get().status == Question.Status.FAILED


def test_no_backend_configured_is_a_503_that_saves_and_counts_nothing(logged_in: Client) -> None:
    response = send(logged_in, {"message": "x"})

    assert response.status_code == 503
    assert "prévenez votre enseignant" in response.json()["error"]
    assert "CODEGEN_WEBHOOK_URL" not in response.json()["error"]
    assert response.json()["quota_remaining"] == 100
    assert not Question.objects.exists()


def test_the_gemini_backend_answers_through_the_same_api(
    logged_in: Client, settings: Any, fake_gemini: FakeGemini
) -> None:
    settings.CODEGEN_BACKEND = "gemini"

    response = send(logged_in, {"message": "Bonjour"})

    assert response.status_code == 200
    assert Question.objects.get().backend == Question.Backend.GEMINI
    assert len(fake_gemini.generate_requests()) == 1


def test_gemini_without_a_key_is_a_503(logged_in: Client, settings: Any) -> None:
    settings.CODEGEN_BACKEND = "gemini"
    settings.GEMINI_API_KEY = ""

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 503
    assert "GEMINI_API_KEY" not in response.json()["error"]
    assert not Question.objects.exists()


def test_a_gemini_error_is_a_502(logged_in: Client, settings: Any, fake_gemini: FakeGemini) -> None:
    from platform_site.llm.tests.fakes.gemini import Reply as GeminiReply

    settings.CODEGEN_BACKEND = "gemini"
    fake_gemini.queue(GeminiReply(status=500))

    assert send(logged_in, {"message": "x"}).status_code == 502


def test_a_slow_gemini_is_a_504(logged_in: Client, settings: Any, fake_gemini: FakeGemini) -> None:
    from platform_site.llm.tests.fakes.gemini import Reply as GeminiReply

    settings.CODEGEN_BACKEND = "gemini"
    settings.CODEGEN_TIMEOUT_S = 1.0
    fake_gemini.queue(GeminiReply(text="tard", delay_s=3.0))

    assert send(logged_in, {"message": "x"}).status_code == 504


def test_a_script_in_the_explanation_never_becomes_markup(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(body=SCRIPT_REPLY))

    answer = send(logged_in, {"message": "x"}).json()
    page = logged_in.get(f"/codegen/{answer['id']}/").content.decode()

    assert "<script>alert" not in answer["explanation_html"]
    assert "&lt;script&gt;" in answer["explanation_html"]
    assert "<b onclick" not in answer["explanation_html"]
    assert "<script>alert" not in page
    assert "<b onclick" not in page
    assert "&lt;script&gt;alert(" in page


# --- the pages ----------------------------------------------------------------------------


def test_the_page_needs_a_login(client: Client) -> None:
    response = client.get("/codegen/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_page_shows_the_form_the_quota_and_its_script(
    logged_in: Client, user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5
    AnsweredQuestionFactory.create(user=user)

    page = logged_in.get("/codegen/").content.decode()

    assert 'name="message"' in page
    assert 'data-send-url="/codegen/send/"' in page
    assert 'aria-live="polite"' in page
    assert "4 questions sur 5" in page
    assert "codegen/codegen.js" in page
    assert "CODEGEN_WEBHOOK_URL" not in page


def test_without_a_backend_a_student_reads_a_plain_sentence_and_a_disabled_form(
    logged_in: Client,
) -> None:
    page = logged_in.get("/codegen/").content.decode()

    assert "La génération de code n’est pas encore disponible sur ce site" in page
    assert '<fieldset class="fieldset-plain" disabled>' in page
    assert "CODEGEN_WEBHOOK_URL" not in page


def test_without_a_backend_staff_read_the_setting_to_change(client: Client) -> None:
    client.force_login(UserFactory.create(is_staff=True))

    page = client.get("/codegen/").content.decode()

    assert "CODEGEN_WEBHOOK_URL" in page


def test_without_javascript_a_question_without_a_backend_is_refused_and_not_saved(
    logged_in: Client,
) -> None:
    response = logged_in.post("/codegen/", {"message": "Somme"})

    assert response.status_code == 503
    assert not Question.objects.exists()


def test_without_javascript_the_form_posts_and_shows_the_answer(
    logged_in: Client, fake_webhook: FakeWebhook
) -> None:
    response = logged_in.post("/codegen/", {"message": "Somme"}, follow=True)

    question = Question.objects.get()
    assert response.redirect_chain == [(f"/codegen/{question.pk}/", 302)]
    assert 'class="highlight"' in response.content.decode()


def test_without_javascript_an_empty_form_is_a_400(logged_in: Client) -> None:
    assert logged_in.post("/codegen/", {"message": ""}).status_code == 400


def test_the_answer_page_shows_code_tools_and_explanation(logged_in: Client, user: User) -> None:
    question = AnsweredQuestionFactory.create(user=user)

    page = logged_in.get(f"/codegen/{question.pk}/").content.decode()

    assert 'class="highlight"' in page
    assert f'href="/codegen/{question.pk}/download/"' in page
    assert "data-copy-target" in page
    assert "<strong>sum</strong>" in page
    assert "Python valide" in page


def test_the_answer_page_shows_the_html_saved_with_the_answer_without_rendering_again(
    logged_in: Client, user: User
) -> None:
    question = AnsweredQuestionFactory.create(
        user=user, explanation="[" * 100_000, explanation_html="<p>déjà rendue</p>"
    )

    page = logged_in.get(f"/codegen/{question.pk}/").content.decode()
    history = logged_in.get("/codegen/history/").content.decode()

    assert "<p>déjà rendue</p>" in page
    assert "<p>déjà rendue</p>" in history


def test_someone_elses_question_is_a_404(logged_in: Client, other_user: User) -> None:
    question = AnsweredQuestionFactory.create(user=other_user)

    assert logged_in.get(f"/codegen/{question.pk}/").status_code == 404
    assert logged_in.get(f"/codegen/{question.pk}/download/").status_code == 404
    assert logged_in.post(f"/codegen/{question.pk}/retry/").status_code == 404


def test_the_code_downloads_as_a_py_attachment(logged_in: Client, user: User) -> None:
    question = AnsweredQuestionFactory.create(user=user)

    response = logged_in.get(f"/codegen/{question.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="question-{question.pk}.py"'
    assert response.content.decode() == question.code


def test_a_question_without_code_has_nothing_to_download(logged_in: Client, user: User) -> None:
    question = FailedQuestionFactory.create(user=user)

    assert logged_in.get(f"/codegen/{question.pk}/download/").status_code == 404


def test_the_history_lists_answers_and_offers_to_resend_failed_questions(
    logged_in: Client, user: User, other_user: User, fake_webhook: FakeWebhook
) -> None:
    answered = AnsweredQuestionFactory.create(user=user, message="Trier une liste")
    failed = FailedQuestionFactory.create(user=user, message="Inverser un mot")
    QuestionFactory.create(user=other_user, message="Pas à moi")

    page = logged_in.get("/codegen/history/").content.decode()

    assert "Trier une liste" in page
    assert "Inverser un mot" in page
    assert "Pas à moi" not in page
    assert f'action="/codegen/{failed.pk}/retry/"' in page
    assert f'action="/codegen/{answered.pk}/retry/"' not in page
    assert failed.error_message in page


def test_the_history_pages_by_ten_newest_first(logged_in: Client, user: User) -> None:
    for number in range(11):
        question = QuestionFactory.create(user=user, message=f"Question numéro {number:02d}")
        Question.objects.filter(pk=question.pk).update(
            created_at=question.created_at.replace(year=2025, day=1, hour=number)
        )

    first = logged_in.get("/codegen/history/").content.decode()
    second = logged_in.get("/codegen/history/?page=2").content.decode()

    assert "Page 1 sur 2" in first
    assert 'href="?page=2"' in first
    assert "Question numéro 10" in first
    assert "Question numéro 00" not in first
    assert "Question numéro 00" in second
    assert 'href="?page=1"' in second


def test_resending_a_failed_question_answers_it(
    logged_in: Client, user: User, fake_webhook: FakeWebhook
) -> None:
    question = FailedQuestionFactory.create(user=user)

    response = logged_in.post(f"/codegen/{question.pk}/retry/", follow=True)

    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert response.redirect_chain == [(f"/codegen/{question.pk}/", 302)]
    assert "obtenu une réponse" in response.content.decode()


def test_resending_when_the_webhook_fails_again_keeps_it_failed(
    logged_in: Client, user: User, fake_webhook: FakeWebhook
) -> None:
    question = FailedQuestionFactory.create(user=user)
    fake_webhook.queue(Reply.deactivated())

    response = logged_in.post(f"/codegen/{question.pk}/retry/", follow=True)

    question.refresh_from_db()
    assert question.status == Question.Status.FAILED
    assert question.error_message in response.content.decode()
    assert "refusé la demande" in question.error_message


def test_an_answered_question_is_not_sent_again(
    logged_in: Client, user: User, fake_webhook: FakeWebhook
) -> None:
    question = AnsweredQuestionFactory.create(user=user)

    response = logged_in.post(f"/codegen/{question.pk}/retry/", follow=True)

    assert "Seule une question échouée" in response.content.decode()
    assert fake_webhook.request_count == 0


def test_a_question_sent_too_often_offers_no_resend_and_says_to_ask_anew(
    logged_in: Client, user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_SENDS = 3
    question = FailedQuestionFactory.create(user=user, attempts=3)

    response = logged_in.post(f"/codegen/{question.pk}/retry/", follow=True)
    detail = response.content.decode()
    history = logged_in.get("/codegen/history/").content.decode()

    assert "déjà été envoyée 3 fois" in detail
    assert "Envoyée 3 fois sans réponse" in detail
    assert f'action="/codegen/{question.pk}/retry/"' not in detail
    assert f'action="/codegen/{question.pk}/retry/"' not in history
    assert fake_webhook.request_count == 0


def test_the_api_offers_no_retry_url_once_the_sends_are_used_up(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_SENDS = 1
    fake_webhook.queue(Reply.scenario_failed())

    answer = send(logged_in, {"message": "Somme d'une liste"}).json()

    assert answer["error"]
    assert answer["retry_url"] == ""


def test_retry_is_post_only(logged_in: Client, user: User) -> None:
    question = FailedQuestionFactory.create(user=user)

    assert logged_in.get(f"/codegen/{question.pk}/retry/").status_code == 405


def test_a_body_over_djangos_upload_limit_is_a_413(logged_in: Client, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = send(logged_in, {"message": "x" * 200})

    assert response.status_code == 413


def test_the_timeout_message_says_how_long_was_waited(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 0.5
    fake_webhook.delay_s = 2.0

    assert "à temps" in send(logged_in, {"message": "x"}).json()["error"]
    assert "0.5 s" in Question.objects.get().error_detail


@pytest.mark.parametrize("backend", ["webhook", "gemini"])
def test_an_unreadable_200_is_a_502_and_the_question_can_be_resent_at_once(
    logged_in: Client,
    settings: Any,
    fake_webhook: FakeWebhook,
    fake_gemini: FakeGemini,
    backend: str,
) -> None:
    from platform_site.llm.tests.fakes.gemini import Reply as GeminiReply

    settings.CODEGEN_BACKEND = backend
    fake_webhook.queue(Reply.html_page(), Reply.truncated_json())
    fake_gemini.queue(GeminiReply.html_page())

    response = send(logged_in, {"message": "x"})

    assert response.status_code == 502
    assert response["Content-Type"] == "application/json"
    question = Question.objects.get()
    assert question.status == Question.Status.FAILED
    assert response.json()["retry_url"] == f"/codegen/{question.pk}/retry/"
    page = logged_in.get(f"/codegen/{question.pk}/")
    assert page.status_code == 200
    assert question.error_message in page.content.decode()


def test_a_failure_recorded_in_french_reads_in_english_after_switching(
    logged_in: Client, fake_webhook: FakeWebhook, settings: Any
) -> None:
    fake_webhook.queue(Reply(status=500, body="boom"), Reply(status=500, body="boom"))
    french = send(logged_in, {"message": "x"}).json()
    english_sentence = (
        "The service that writes the answers cannot be reached at the moment. Try again later."
    )

    logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # The middleware activates English for the thread: override() restores it afterwards.
    with translation.override(settings.LANGUAGE_CODE):
        detail = logged_in.get(f"/codegen/{french['id']}/").content.decode()
        history = logged_in.get("/codegen/history/").content.decode()
        again = send(logged_in, {"message": "y"}).json()

    assert "injoignable" in french["error"]
    assert english_sentence in detail
    assert english_sentence in history
    assert "injoignable" not in detail + history
    assert again["error"] == english_sentence
