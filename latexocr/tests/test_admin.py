from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from latexocr.tests.factories import ConversionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client: Client) -> Client:
    client.force_login(UserFactory.create(is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_conversions_read_only(admin_client_logged_in: Client) -> None:
    conversion = ConversionFactory.create(original_filename="examen.pdf", status="done")

    listing = admin_client_logged_in.get("/admin/latexocr/conversion/")
    detail = admin_client_logged_in.get(f"/admin/latexocr/conversion/{conversion.pk}/change/")

    assert listing.status_code == 200
    assert "examen.pdf" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert admin_client_logged_in.get("/admin/latexocr/conversion/add/").status_code == 403


def test_the_admin_shows_each_versions_compile_read_only(admin_client_logged_in: Client) -> None:
    conversion = ConversionFactory.create(
        status="done",
        latex="\\documentclass{article} SECRET-LATEX",
        compile_status="fails",
        compile_errors=[{"line": 5, "message": "Commande inconnue : \\mathbb"}],
        compile_log_excerpt="! Undefined control sequence.",
    )

    listing = admin_client_logged_in.get("/admin/latexocr/conversion/?compile_status=fails")
    detail = admin_client_logged_in.get(f"/admin/latexocr/conversion/{conversion.pk}/change/")

    assert "ne se compile pas" in listing.content.decode()
    page = detail.content.decode()
    assert "Commande inconnue" in page
    assert "! Undefined control sequence." in page
    assert "SECRET-LATEX" not in page
    assert 'name="compile_status"' not in page
