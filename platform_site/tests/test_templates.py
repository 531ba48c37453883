from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone, translation

pytestmark = pytest.mark.django_db


def test_base_template_renders_in_french() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    html = render_to_string("base.html", request=request)

    assert '<html lang="fr">' in html
    assert "Aller au contenu" in html


def test_404_page_is_french_and_uses_the_base_template(client: Client) -> None:
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "Page introuvable" in html
    assert 'class="site-header"' in html


def test_english_is_served_when_the_language_cookie_asks_for_it(client: Client) -> None:
    client.cookies["django_language"] = "en"

    response = client.get("/cette-page-n-existe-pas/")

    assert '<html lang="en">' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "1 décembre 2026 à 08:44"), ("en", "1 December 2026 at 08:44")],
)
def test_dates_read_day_month_year_in_either_language(language: str, expected: str) -> None:
    moment = datetime(2026, 12, 1, 8, 44, tzinfo=UTC)
    template = Template('{{ moment|date:"DATETIME_FORMAT" }}')

    with translation.override(language), timezone.override(UTC):
        assert template.render(Context({"moment": moment})) == expected
