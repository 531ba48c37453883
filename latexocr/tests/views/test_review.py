"""Edit, restore, repair on demand and a version's status (latexocr/views/review.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from latexocr.models import RepairRequest, Version
from latexocr.tests.views.builders import (
    LATEX,
    edit,
    reviewed,
)

pytestmark = pytest.mark.django_db


def test_an_edit_saves_a_new_version_that_the_worker_compiles(
    logged_in: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    conversion = reviewed(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = edit(logged_in, conversion, LATEX.replace("Bonjour", "Bonsoir"))

    assert response.status_code == 302
    assert response["Location"] == f"/ocr/{conversion.pk}/"
    version = conversion.versions.get(number=2)
    assert version.origin == Version.Origin.EDITED
    assert "Bonsoir" in version.latex
    # No engine in these tests: the worker ran and says the check is skipped.
    assert version.compile_status == Version.CompileStatus.SKIPPED
    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert "Version 2 enregistrée" in page
    assert "LaTeX (version 2)" in page


def test_a_version_still_compiling_is_polled_and_refreshes_without_javascript(
    logged_in: Client, user: User
) -> None:
    conversion = reviewed(user, compile_status=Version.CompileStatus.QUEUED, compiled_pdf=None)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert f'data-status-url="/ocr/{conversion.pk}/versions/1/status/"' in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    state = logged_in.get(f"/ocr/{conversion.pk}/versions/1/status/").json()
    assert state["compiling"] is True
    assert state["pdf_url"] is None


def test_the_status_of_a_compiled_version_gives_its_pdf(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)

    state = logged_in.get(f"/ocr/{conversion.pk}/versions/1/status/").json()

    assert state == {
        "number": 1,
        "compile_status": "compiles",
        "compile_status_label": "se compile",
        "compiling": False,
        "errors": [],
        "compiled_page_count": 1,
        "pdf_url": f"/ocr/{conversion.pk}/versions/1/pdf/",
        "repair_pending": False,
        "newest": 1,
    }


def test_the_same_text_again_adds_no_version(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)

    response = edit(logged_in, conversion, LATEX.replace("\n", "\r\n"))

    assert response.status_code == 302
    assert conversion.versions.count() == 1


def test_an_empty_edit_is_refused_with_400(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)

    response = edit(logged_in, conversion, "   ")

    assert response.status_code == 400
    assert conversion.versions.count() == 1


def test_latex_over_the_size_limit_is_refused_with_413(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.LATEXOCR_MAX_LATEX_KB = 1
    conversion = reviewed(user)

    response = edit(logged_in, conversion, "%" + "é" * 700)

    assert response.status_code == 413
    assert "dépasse la taille maximale de 1 Ko" in response.content.decode()
    assert conversion.versions.count() == 1


def test_a_body_far_over_the_limit_is_refused_unread_with_413(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.LATEXOCR_MAX_LATEX_KB = 1

    conversion = reviewed(user)
    response = edit(logged_in, conversion, "x" * 100_000)

    assert response.status_code == 413
    assert conversion.versions.count() == 1


def test_the_hourly_recompile_limit_answers_429_and_keeps_the_text(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.LATEXOCR_RECOMPILES_PER_HOUR = 1
    conversion = reviewed(user)
    assert edit(logged_in, conversion, LATEX + "% un").status_code == 302

    response = edit(logged_in, conversion, LATEX + "% deux")

    assert response.status_code == 429
    page = response.content.decode()
    assert "Vous avez recompilé 1 fois en une heure, le maximum" in page
    assert "% deux</textarea>" in page
    assert conversion.versions.count() == 2


def test_a_restored_version_becomes_the_newest(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)
    edit(logged_in, conversion, LATEX + "% cassé")

    response = logged_in.post(f"/ocr/{conversion.pk}/versions/1/restore/")

    assert response.status_code == 302
    newest = conversion.versions.order_by("-number").first()
    assert newest is not None
    assert (newest.number, newest.origin, newest.restored_from) == (3, "restored", 1)
    assert newest.latex == LATEX
    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert "La version 1 est restaurée" in page
    assert f'src="/ocr/{conversion.pk}/versions/3/pdf/"' in page


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", "/"),
        ("get", "/source.pdf"),
        ("get", "/versions/1/status/"),
        ("get", "/versions/1/tex/"),
        ("get", "/versions/1/tex/download/"),
        ("get", "/versions/1/pdf/"),
        ("get", "/versions/1/pdf/download/"),
        ("post", "/versions/1/restore/"),
        ("post", "/edit/"),
        ("post", "/repair/"),
    ],
)
def test_every_url_of_someone_else_s_conversion_is_404(
    logged_in: Client, other_user: User, method: str, suffix: str
) -> None:
    conversion = reviewed(other_user, compile_status="fails", compiled_pdf=None)

    response = getattr(logged_in, method)(f"/ocr/{conversion.pk}{suffix}", {"latex": "x"})

    assert response.status_code == 404
    assert conversion.versions.count() == 1
    assert not RepairRequest.objects.exists()


@pytest.mark.parametrize("suffix", ["/edit/", "/repair/", "/versions/1/restore/"])
def test_every_post_checks_the_csrf_token(user: User, suffix: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    conversion = reviewed(user, compile_status="fails", compiled_pdf=None)

    response = client.post(f"/ocr/{conversion.pk}{suffix}", {"latex": LATEX + "%"})

    assert response.status_code == 403
    assert conversion.versions.count() == 1


def test_the_repair_button_is_disabled_without_a_gemini_key_and_names_no_vendor(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.GEMINI_API_KEY = ""
    conversion = reviewed(user, compile_status="fails", compiled_pdf=None)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    response = logged_in.post(f"/ocr/{conversion.pk}/repair/")

    assert "Demander une correction au modèle</button>" in page
    assert 'disabled aria-describedby="repair-help"' in page
    assert "la correction automatique n’est pas proposée sur ce serveur" in page
    assert "Gemini" not in page
    assert response.status_code == 409
    assert not RepairRequest.objects.exists()


def test_a_repair_is_queued_and_counted_in_the_quota(
    logged_in: Client, user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.GEMINI_API_KEY = "fake-key"
    settings.LATEXOCR_DAILY_QUOTA = 2
    conversion = reviewed(user, compile_status="fails", compiled_pdf=None)

    with django_capture_on_commit_callbacks() as callbacks:
        response = logged_in.post(f"/ocr/{conversion.pk}/repair/")

    assert response.status_code == 302
    assert len(callbacks) == 1
    request = RepairRequest.objects.get()
    assert (request.source_number, request.status) == (1, RepairRequest.Status.QUEUED)
    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert "Le modèle corrige cette version…" in page
    # Quota: 1 conversion + 1 repair = 2 used; the upload page says so.
    assert logged_in.get("/ocr/").context["quota_remaining"] == 0
