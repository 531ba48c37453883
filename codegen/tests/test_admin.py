from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/codegen/question/"


@pytest.fixture
def admin_client_logged_in(client: Client) -> Client:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_questions_read_only(admin_client_logged_in: Client) -> None:
    question = AnsweredQuestionFactory.create(message="Trier des dictionnaires")

    listing = admin_client_logged_in.get(LIST).content.decode()
    detail = admin_client_logged_in.get(f"{LIST}{question.pk}/change/")

    assert "Trier des dictionnaires" in listing
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client_logged_in.get(f"{LIST}add/").status_code == 403


def test_the_admin_filters_by_status_backend_and_user(admin_client_logged_in: Client) -> None:
    answered = AnsweredQuestionFactory.create(message="Question Alpha")
    failed = FailedQuestionFactory.create(message="Question Beta", backend="gemini")

    by_status = admin_client_logged_in.get(LIST, {"status__exact": "failed"}).content.decode()
    by_backend = admin_client_logged_in.get(LIST, {"backend__exact": "webhook"}).content.decode()
    by_user = admin_client_logged_in.get(
        LIST, {"user__id__exact": str(answered.user.pk)}
    ).content.decode()

    assert "Question Beta" in by_status and "Question Alpha" not in by_status
    assert "Question Alpha" in by_backend and "Question Beta" not in by_backend
    assert "Question Alpha" in by_user and failed.message not in by_user
