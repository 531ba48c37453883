from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from codegen.tests.factories import AnsweredQuestionFactory, FailedQuestionFactory
from latexocr.tests.factories import ConversionFactory

pytestmark = pytest.mark.django_db


def test_home_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/home/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_greets_the_user_and_shows_their_name_and_logout_in_the_nav(client: Client) -> None:
    user = UserFactory.create(first_name="Amina", last_name="Diallo")
    client.force_login(user)

    response = client.get("/home/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Bonjour, Amina !" in html
    assert "Amina Diallo" in html
    assert 'aria-current="page"' in html
    assert "Se déconnecter" in html


def test_home_lists_only_the_users_recent_conversions(client: Client) -> None:
    user = UserFactory.create()
    ConversionFactory.create(owner=user, original_filename="td-integrales.pdf")
    ConversionFactory.create(original_filename="pas-a-moi.pdf")
    client.force_login(user)

    response = client.get("/home/")

    html = response.content.decode()
    assert "td-integrales.pdf" in html
    assert "pas-a-moi.pdf" not in html


def test_home_shows_the_conversions_left_today(client: Client, settings: Any) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 3
    user = UserFactory.create()
    ConversionFactory.create(owner=user)
    client.force_login(user)

    response = client.get("/home/")

    assert response.context["conversion_quota_remaining"] == 2
    assert "conversions restantes" in response.content.decode()


def test_home_lists_only_the_users_recent_questions_with_their_status_and_link(
    client: Client,
) -> None:
    user = UserFactory.create()
    answered = AnsweredQuestionFactory.create(user=user, message="Trier une liste de notes")
    FailedQuestionFactory.create(user=user, message="Inverser une chaîne")
    AnsweredQuestionFactory.create(message="La question de quelqu'un d'autre")
    client.force_login(user)

    response = client.get("/home/")

    html = response.content.decode()
    assert "Trier une liste de notes" in html
    assert "Inverser une chaîne" in html
    assert "quelqu&#x27;un d&#x27;autre" not in html
    assert f'href="/codegen/{answered.pk}/"' in html
    assert "badge-answered" in html
    assert "badge-failed" in html


def test_home_shows_the_questions_left_today(client: Client, settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 5
    user = UserFactory.create()
    AnsweredQuestionFactory.create(user=user)
    AnsweredQuestionFactory.create(user=user)
    client.force_login(user)

    response = client.get("/home/")

    assert response.context["question_quota_remaining"] == 3
    assert "questions restantes" in response.content.decode()


def test_home_says_unlimited_when_the_question_quota_is_off(client: Client, settings: Any) -> None:
    settings.CODEGEN_DAILY_QUOTA = 0
    client.force_login(UserFactory.create())

    response = client.get("/home/")

    assert response.context["question_quota_remaining"] is None
    assert "(illimité)" in response.content.decode()


def test_home_promises_nothing_the_local_engine_cannot_read(client: Client, settings: Any) -> None:
    settings.LATEXOCR_BACKEND = "local"
    client.force_login(UserFactory.create())

    page = client.get("/home/").content.decode()

    assert "manuscrit" not in page
    assert "Déposez un PDF" in page


def test_the_accessibility_statement_is_public_and_names_the_operator_and_contact(
    client: Client, settings: Any
) -> None:
    settings.ACCESSIBILITY_ORGANISATION = "Université de Exemple"
    settings.ACCESSIBILITY_CONTACT = "accessibilite@univ-exemple.fr"

    response = client.get("/accessibilite/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Université de Exemple s’engage" in html
    assert 'href="mailto:accessibilite@univ-exemple.fr"' in html
    assert "<strong>non conforme</strong>" in html
    assert "Défenseur des droits" in html
    assert "formulaire.defenseurdesdroits.fr" in html


def test_the_accessibility_statement_links_a_contact_form_given_as_a_url(
    client: Client, settings: Any
) -> None:
    settings.ACCESSIBILITY_CONTACT = "https://univ-exemple.fr/contact"

    html = client.get("/accessibilite/").content.decode()

    assert '<a href="https://univ-exemple.fr/contact">' in html
    assert "mailto:" not in html


def test_the_accessibility_statement_without_settings_says_no_contact_is_set(
    client: Client, settings: Any
) -> None:
    settings.ACCESSIBILITY_ORGANISATION = ""
    settings.ACCESSIBILITY_CONTACT = ""

    html = client.get("/accessibilite/").content.decode()

    assert "L’établissement qui déploie cette plateforme s’engage" in html
    assert "Aucun contact n’a encore été indiqué" in html


def test_the_accessibility_statement_reads_in_english(client: Client) -> None:
    client.cookies["django_language"] = "en"

    html = client.get("/accessibilite/").content.decode()

    assert '<html lang="en">' in html
    assert "<h1>Accessibility statement</h1>" in html
    assert "Défenseur des droits" in html


def test_every_page_links_the_accessibility_statement_from_its_footer(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()

    footer = html[html.index('<footer class="site-footer">') :]
    assert '<a href="/accessibilite/">Accessibilité : non conforme</a>' in footer
