from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from codegen.models import Question
from platform_site.llm.tests.fakes.webhook import FakeWebhook, Reply

pytestmark = pytest.mark.django_db


def test_codegen_ask_prints_the_code_and_the_explanation_and_saves_nothing(
    fake_webhook: FakeWebhook, django_assert_num_queries: Any
) -> None:
    out = StringIO()

    with django_assert_num_queries(0):
        call_command("codegen_ask", "Somme d'une liste", stdout=out)

    printed = out.getvalue()
    assert "def resoudre(" in printed
    assert "La fonction `resoudre`" in printed
    assert "webhook" in printed
    assert fake_webhook.requests[0].body == {"message": "Somme d'une liste"}
    assert not Question.objects.exists()


def test_codegen_ask_raw_also_prints_the_whole_reply(fake_webhook: FakeWebhook) -> None:
    out = StringIO()

    call_command("codegen_ask", "x", "--raw", stdout=out)

    assert "**Explication :**" in out.getvalue()


def test_codegen_ask_reports_a_syntax_error_in_the_answer(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply(body="```python\nif x\n```\nExplication : cassé."))
    out = StringIO()

    call_command("codegen_ask", "x", stdout=out)

    assert "ligne 1" in out.getvalue()


def test_codegen_ask_fails_loudly_when_the_backend_fails(fake_webhook: FakeWebhook) -> None:
    fake_webhook.queue(Reply.accepted())

    with pytest.raises(CommandError, match="Webhook response"):
        call_command("codegen_ask", "x", stdout=StringIO())


def test_codegen_ask_says_what_to_configure(settings: Any) -> None:
    with pytest.raises(CommandError, match="CODEGEN_WEBHOOK_URL"):
        call_command("codegen_ask", "x", stdout=StringIO())
