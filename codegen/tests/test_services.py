from __future__ import annotations

import importlib
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from codegen.models import InvalidTransition, Question
from codegen.selectors import question_can_be_resent, question_quota_remaining
from codegen.services import (
    BackendNotConfigured,
    QuotaExceeded,
    RetryCannotSucceed,
    SendLimitReached,
    TooManyInFlight,
    in_flight,
    question_create,
    question_retry,
    question_send,
)
from codegen.tests.factories import (
    AnsweredQuestionFactory,
    FailedQuestionFactory,
    QuestionFactory,
)
from platform_site.llm.errors import (
    ANSWER_CUT,
    TIMEOUT,
    LlmError,
)
from platform_site.llm.tests.fakes.gemini import FakeGemini
from platform_site.llm.tests.fakes.gemini import Reply as GeminiReply
from platform_site.llm.tests.fakes.webhook import FakeWebhook, Reply
from platform_site.llm.tests.raising import raises_kind

pytestmark = pytest.mark.django_db


def ask_question(*, user: User, message: str) -> Question:
    """What both views do with a new question: save it, then send it."""
    return question_send(question=question_create(user=user, message=message))


def test_a_question_is_saved_pending_before_the_outside_call(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = question_create(user=user, message="Trie une liste.")

    question.refresh_from_db()
    assert question.status == Question.Status.PENDING
    assert question.backend == Question.Backend.WEBHOOK
    # Saved as being sent: the send is claimed in the INSERT.
    assert question.attempts == 1
    assert question.sent_at is not None


def test_an_answered_question_records_code_explanation_and_latency(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = ask_question(user=user, message="Somme d'une liste")

    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert question.code.startswith("def resoudre(")
    assert question.explanation.startswith("La fonction `resoudre`")
    assert "**Explication :**" in question.reply
    assert question.latency_ms is not None
    assert question.attempts == 1
    assert question.finished_at is not None


def test_the_explanation_is_rendered_once_when_the_answer_is_saved(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = ask_question(user=user, message="Somme d'une liste")

    question.refresh_from_db()
    assert question.explanation_html.startswith("<p>La fonction <code>resoudre</code>")


def test_the_migration_renders_the_explanations_saved_before_it(user: User) -> None:
    from django.apps import apps

    backfill = importlib.import_module("codegen.migrations.0002_question_explanation_html")
    question = AnsweredQuestionFactory.create(user=user, explanation="**gras**")
    Question.objects.filter(pk=question.pk).update(explanation_html="")

    backfill.render_saved_explanations(apps, connection.schema_editor())

    question.refresh_from_db()
    assert question.explanation_html == "<p><strong>gras</strong></p>\n"


def test_a_failed_call_keeps_the_question_failed_with_its_error(
    user: User, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply.accepted())
    question = question_create(user=user, message="x")

    with raises_kind():
        question_send(question=question)

    question.refresh_from_db()
    assert question.status == Question.Status.FAILED
    assert question.error_code == "llm.rejected"
    assert "Webhook response" in question.error_detail
    assert "Webhook" not in question.error_message
    assert question.latency_ms is not None


def test_a_timeout_is_recorded_and_reraised_as_the_wrapper_timeout(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_TIMEOUT_S = 0.3
    fake_webhook.delay_s = 2.0

    with raises_kind(TIMEOUT):
        ask_question(user=user, message="x")

    assert Question.objects.get().status == Question.Status.FAILED


def test_no_backend_configured_saves_nothing_and_calls_nothing(user: User) -> None:
    with pytest.raises(BackendNotConfigured):
        ask_question(user=user, message="x")

    assert not Question.objects.exists()


def test_the_daily_quota_stops_new_questions(
    user: User, settings: Any, fake_webhook: FakeWebhook
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 2
    AnsweredQuestionFactory.create(user=user)
    FailedQuestionFactory.create(user=user, charged=True)

    with pytest.raises(QuotaExceeded):
        question_create(user=user, message="x")

    assert Question.objects.count() == 2


def test_with_no_quota_a_question_costs_its_insert_and_its_answer_only(
    user: User, fake_webhook: FakeWebhook, settings: Any, django_assert_num_queries: Any
) -> None:
    # The send is claimed in the INSERT; no quota, so no row lock and no count. A regression
    # guard: each query is ~0.5 ms of the ~5 ms the site spends on a question.
    settings.CODEGEN_DAILY_QUOTA = 0

    with django_assert_num_queries(2):
        question = ask_question(user=user, message="Somme d'une liste")

    assert question.status == Question.Status.ANSWERED


def test_with_a_quota_the_question_is_counted_under_the_users_row_lock(
    user: User, fake_webhook: FakeWebhook, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5

    # A savepoint here (the test's transaction; BEGIN in production), the lock, the count, the
    # INSERT, the release.
    with django_assert_num_queries(5) as captured:
        question_create(user=user, message="Somme d'une liste")

    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[1].startswith('SELECT "accounts_user"')
    if connection.vendor == "postgresql":  # SQLite has no row locks (the file lock serialises)
        assert statements[1].endswith("FOR UPDATE")
    assert "COUNT(" in statements[2]
    assert statements[3].startswith('INSERT INTO "codegen_question"')


def test_a_full_in_flight_cap_fails_the_question_without_calling(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_IN_FLIGHT = 1
    assert in_flight.try_acquire()
    try:
        question = question_create(user=user, message="x")
        with pytest.raises(TooManyInFlight):
            question_send(question=question)
    finally:
        in_flight.release()

    question.refresh_from_db()
    assert question.status == Question.Status.FAILED
    assert fake_webhook.request_count == 0
    # Never sent: no send spent, nothing counted.
    assert (question.attempts, question.sent_at, question.charged) == (0, None, False)


def test_the_in_flight_slot_is_given_back_after_success_and_failure(
    user: User, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(status=500, body="boom"))
    with raises_kind():
        ask_question(user=user, message="x")
    ask_question(user=user, message="y")

    assert in_flight.busy == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks whole tables between threads; "
    "the PostgreSQL pass runs this test",
)
def test_concurrent_questions_beyond_the_cap_are_refused(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_IN_FLIGHT = 2
    fake_webhook.delay_s = 0.5
    outcomes: list[str] = []

    def ask() -> None:
        try:
            ask_question(user=user, message="lent")
            outcomes.append("answered")
        except TooManyInFlight:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(outcomes) == ["answered", "answered", "refused", "refused"]
    assert fake_webhook.request_count == 2


def test_a_failed_question_sent_again_gets_answered_through_the_current_backend(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = FailedQuestionFactory.create(user=user, backend=Question.Backend.GEMINI)

    question_retry(question=question)

    question.refresh_from_db()
    assert question.status == Question.Status.ANSWERED
    assert question.backend == Question.Backend.WEBHOOK
    assert question.error_code == ""
    assert question.attempts == 2


def test_an_answered_question_cannot_be_sent_again(user: User, fake_webhook: FakeWebhook) -> None:
    question = AnsweredQuestionFactory.create(user=user)

    with pytest.raises(InvalidTransition):
        question_retry(question=question)

    assert fake_webhook.request_count == 0


def test_the_gemini_backend_asks_for_one_python_block_and_an_explanation(
    user: User, settings: Any, fake_gemini: FakeGemini
) -> None:
    settings.CODEGEN_BACKEND = "gemini"
    fake_gemini.queue(GeminiReply(text="```python\nprint(42)\n```\nExplication : affiche 42."))

    question = ask_question(user=user, message="Affiche 42")

    assert question.backend == Question.Backend.GEMINI
    assert question.code == "print(42)"
    assert question.explanation == "affiche 42."
    sent = fake_gemini.generate_requests()[0]
    assert sent.model == "gemini-3.8-flash"
    assert "```python" in str(sent.body)
    assert "Affiche 42" in str(sent.body)


def test_a_cut_gemini_answer_is_a_failure_not_an_answer(
    user: User, settings: Any, fake_gemini: FakeGemini
) -> None:
    settings.CODEGEN_BACKEND = "gemini"
    fake_gemini.queue(GeminiReply(text="```python\nprint(", finish_reason="MAX_TOKENS"))

    with raises_kind(ANSWER_CUT):
        ask_question(user=user, message="x")

    question = Question.objects.get()
    assert question.status == Question.Status.FAILED
    assert question.error_code == "llm.answer_cut"
    # Gemini did the (paid) work: the question counts.
    assert question.charged


def test_a_slow_gemini_times_out_once_without_a_second_call(
    user: User, settings: Any, fake_gemini: FakeGemini
) -> None:
    settings.CODEGEN_BACKEND = "gemini"
    settings.CODEGEN_TIMEOUT_S = 1.0
    fake_gemini.queue(GeminiReply(text="trop tard", delay_s=3.0))

    with raises_kind(TIMEOUT):
        ask_question(user=user, message="x")

    assert len(fake_gemini.generate_requests()) == 1
    question = Question.objects.get()
    assert question.error_code == "llm.timeout"
    assert "à temps" in question.error_message
    assert "Gemini" in question.error_detail
    assert not question.charged


def test_a_question_left_pending_by_a_dead_process_can_be_sent_again(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = QuestionFactory.create(user=user)
    Question.objects.filter(pk=question.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    question.refresh_from_db()

    question_retry(question=question)

    assert question.status == Question.Status.ANSWERED


def test_a_question_pending_right_now_cannot_be_sent_twice(
    user: User, fake_webhook: FakeWebhook
) -> None:
    question = question_create(user=user, message="x")

    with pytest.raises(InvalidTransition):
        question_retry(question=question)

    assert fake_webhook.request_count == 0


def test_a_question_is_sent_at_most_codegen_max_sends_times(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_SENDS = 2
    question = FailedQuestionFactory.create(user=user, attempts=1)
    fake_webhook.queue(Reply.scenario_failed())
    with raises_kind():
        question_retry(question=question)
    question.refresh_from_db()
    assert question.attempts == 2

    with pytest.raises(SendLimitReached, match="envoyée 2 fois"):
        question_retry(question=question)

    question.refresh_from_db()
    assert question.status == Question.Status.FAILED
    assert question_can_be_resent(question=question) is False
    assert fake_webhook.request_count == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database locks whole tables between threads; "
    "the PostgreSQL pass runs this test",
)
def test_thirty_parallel_retries_make_at_most_the_allowed_sends(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_SENDS = 3
    settings.CODEGEN_MAX_IN_FLIGHT = 30
    fake_webhook.delay_s = 0.2
    for _ in range(30):
        fake_webhook.queue(Reply(status=500, body="boom"))
    question = FailedQuestionFactory.create(user=user, attempts=1)
    start = threading.Barrier(30)

    def retry() -> None:
        try:
            start.wait(timeout=10)
            question_retry(question=Question.objects.get(pk=question.pk))
        except (LlmError, InvalidTransition, SendLimitReached):
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    question.refresh_from_db()
    assert fake_webhook.request_count <= 2
    assert question.attempts <= 3


def test_a_refusal_by_the_in_flight_cap_is_not_counted_in_the_quota(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1
    settings.CODEGEN_MAX_IN_FLIGHT = 1
    assert in_flight.try_acquire()
    try:
        refused = question_create(user=user, message="x")
        with pytest.raises(TooManyInFlight):
            question_send(question=refused)
    finally:
        in_flight.release()

    ask_question(user=user, message="y")

    assert fake_webhook.request_count == 1
    refused.refresh_from_db()
    with pytest.raises(QuotaExceeded):
        question_retry(question=refused)
    assert fake_webhook.request_count == 1


def test_a_retry_refused_by_the_in_flight_cap_changes_nothing(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_MAX_IN_FLIGHT = 1
    question = FailedQuestionFactory.create(user=user, attempts=1)
    assert in_flight.try_acquire()
    try:
        with pytest.raises(TooManyInFlight):
            question_retry(question=question)
    finally:
        in_flight.release()

    question.refresh_from_db()
    assert (question.status, question.attempts) == (Question.Status.FAILED, 1)
    assert fake_webhook.request_count == 0


def test_a_failure_before_any_upstream_answer_is_not_counted_in_the_quota(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5
    fake_webhook.queue(Reply(status=503), Reply(status=503))

    with raises_kind():
        ask_question(user=user, message="x")

    question = Question.objects.get()
    assert question.error_code == "llm.unreachable"
    assert not question.charged
    assert question_quota_remaining(user=user) == 5


def test_a_failure_after_the_model_answered_is_counted_in_the_quota(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5
    fake_webhook.queue(Reply(body="   "))

    with raises_kind():
        ask_question(user=user, message="x")

    assert Question.objects.get().error_code == "llm.answer_unusable"
    assert question_quota_remaining(user=user) == 4


def test_a_too_busy_server_does_not_count_the_question(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5
    settings.CODEGEN_MAX_IN_FLIGHT = 1
    assert in_flight.try_acquire()
    try:
        with pytest.raises(TooManyInFlight):
            ask_question(user=user, message="x")
    finally:
        in_flight.release()

    assert question_quota_remaining(user=user) == 5


def test_sending_a_free_failure_again_counts_it_and_needs_room_in_the_quota(
    user: User, fake_webhook: FakeWebhook, settings: Any
) -> None:
    settings.CODEGEN_DAILY_QUOTA = 1
    free = FailedQuestionFactory.create(user=user)
    AnsweredQuestionFactory.create(user=user)

    with pytest.raises(QuotaExceeded):
        question_retry(question=free)
    assert fake_webhook.request_count == 0

    settings.CODEGEN_DAILY_QUOTA = 2
    question_retry(question=free)
    free.refresh_from_db()
    assert free.status == Question.Status.ANSWERED
    assert free.charged
    assert question_quota_remaining(user=user) == 0


def test_a_failure_a_retry_would_repeat_is_not_offered_again(
    user: User, fake_webhook: FakeWebhook
) -> None:
    fake_webhook.queue(Reply(status=410, body="gone"))
    with raises_kind():
        ask_question(user=user, message="x")
    question = Question.objects.get()

    assert question.error_code == "llm.rejected"
    assert not question_can_be_resent(question=question)
    with pytest.raises(RetryCannotSucceed):
        question_retry(question=question)
    assert fake_webhook.request_count == 1


def test_no_retry_is_offered_while_no_backend_is_configured(user: User) -> None:
    question = FailedQuestionFactory.create(user=user)

    assert question.error_retryable
    assert not question_can_be_resent(question=question)
    with pytest.raises(BackendNotConfigured):
        question_retry(question=question)
