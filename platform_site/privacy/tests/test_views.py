from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_notice_is_public_and_names_the_controller_the_dpo_and_the_periods_configured(
    client: Client, settings: Any
) -> None:
    settings.PRIVACY_CONTROLLER = "Université de Rennes, 2 rue du Thabor"
    settings.PRIVACY_DPO_EMAIL = "dpo@univ-rennes.fr"
    settings.RETENTION_QUESTIONS_DAYS = 123
    settings.RETENTION_CONVERSIONS_DAYS = 45
    settings.RETENTION_INACTIVE_ACCOUNTS_DAYS = 678
    settings.RETENTION_LOGIN_RECORDS_DAYS = 91
    settings.RETENTION_FIRST_LOGIN_DAYS = 60
    settings.BACKUP_RETENTION_DAYS = 21

    page = client.get("/privacy/").content.decode()

    assert "Université de Rennes, 2 rue du Thabor" in page
    assert 'href="mailto:dpo@univ-rennes.fr"' in page
    for days in ("123 jours après la question", "45 jours après le dépôt", "678 jours après"):
        assert days in page
    assert "91 jours." in page and "60 jours après l’inscription" in page
    assert "au plus tard 21 jours après" in page
    assert "CNIL" in page


@pytest.mark.parametrize(
    ("codegen", "latexocr", "named", "not_named"),
    [
        ("webhook", "local", ["Make.com", "aucun service extérieur"], ["Google"]),
        ("gemini", "gemini", ["Google (Gemini)"], ["Make.com", "aucun service extérieur"]),
        ("openai", "openai", ["serveur de modèles de l’université"], ["Google", "Make.com"]),
    ],
)
def test_the_notice_names_only_the_recipients_of_the_backends_configured(
    client: Client, settings: Any, codegen: str, latexocr: str, named: Any, not_named: Any
) -> None:
    settings.CODEGEN_BACKEND = codegen
    settings.LATEXOCR_BACKEND = latexocr
    settings.OPENAI_BASE_URL = "http://model-server:8000/v1"

    page = client.get("/privacy/").content.decode()

    for text in named:
        assert text in page
    for text in not_named:
        assert text not in page


def test_an_outside_model_server_is_named_by_its_host(client: Client, settings: Any) -> None:
    settings.CODEGEN_BACKEND = "openai"
    settings.OPENAI_BASE_URL = "https://llm.example.org/v1"

    assert "(llm.example.org)" in client.get("/privacy/").content.decode()


def test_the_notice_reads_in_english(client: Client, settings: Any) -> None:
    settings.PRIVACY_DPO_EMAIL = "dpo@univ.example"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    page = client.get("/privacy/").content.decode()

    assert "Privacy and personal data" in page
    assert "Your rights" in page and "Confidentialité" not in page


def test_every_page_links_the_notice_from_its_footer(client: Client) -> None:
    assert 'href="/privacy/"' in client.get("/accounts/login/").content.decode()


def test_the_pages_where_students_send_data_say_where_it_goes(
    client: Client, user: User, settings: Any
) -> None:
    settings.CODEGEN_BACKEND = "gemini"
    settings.GEMINI_API_KEY = "test-key"
    settings.LATEXOCR_BACKEND = "local"
    client.force_login(user)

    codegen = client.get("/codegen/").content.decode()
    upload = client.get("/ocr/").content.decode()

    assert "vos questions de code sont envoyées à Google (Gemini)" in codegen
    assert "Vos PDF restent sur ce site" in upload


def test_a_code_page_without_an_engine_names_no_recipient(
    client: Client, user: User, settings: Any
) -> None:
    # Nothing is sent while no engine is configured: naming Make.com would say otherwise.
    settings.CODEGEN_BACKEND = "webhook"
    settings.CODEGEN_WEBHOOK_URL = ""
    client.force_login(user)

    codegen = client.get("/codegen/").content.decode()

    assert "Make.com" not in codegen
