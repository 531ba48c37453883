from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

pytestmark = pytest.mark.django_db


def test_500_page_renders_without_a_request_in_the_site_design() -> None:
    # Django's server_error renders 500.html with no request and no context processors.
    html = render_to_string("500.html")

    assert "Erreur du serveur" in html
    assert 'class="site-header"' in html
    assert "Se déconnecter" not in html


def test_csrf_failure_shows_the_expired_form_page() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "a", "password": "b"})

    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


@pytest.mark.parametrize(
    ("template", "heading"),
    [
        ("400.html", "Requête invalide"),
        ("403.html", "Accès refusé"),
        ("404.html", "Page introuvable"),
        ("429.html", "Trop de tentatives"),
    ],
)
def test_error_page_shows_its_heading_and_a_way_back(template: str, heading: str) -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    html = render_to_string(template, request=request)

    assert f'<h1 id="error-title">{heading}</h1>' in html
    assert 'class="button"' in html


def test_lockout_page_says_how_long_to_wait_in_whole_minutes() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()

    html = render_to_string(
        "429.html", {"cooloff_timedelta": timedelta(minutes=14, seconds=1)}, request=request
    )

    assert "Réessayez dans 15 minutes." in html
