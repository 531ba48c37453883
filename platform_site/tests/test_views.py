from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/home/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_home_greets_the_user_and_shows_their_name_and_logout_in_the_nav(
    client: Client, django_user_model: Any
) -> None:
    user = django_user_model.objects.create_user(
        username="amina", password="x-Pa55word-long", first_name="Amina"
    )
    client.force_login(user)

    response = client.get("/home/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Bonjour, Amina !" in html
    assert 'aria-current="page"' in html
    assert "Se déconnecter" in html
