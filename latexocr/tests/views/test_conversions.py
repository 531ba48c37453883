"""Upload, history, retry and delete (latexocr/views/conversions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.conversions.uploads import upload_slots
from latexocr.engines import tesseract
from latexocr.models import Conversion
from latexocr.tests.engines.test_tesseract import needs_tesseract
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.views.builders import (
    UPLOAD,
    compiled_conversion,
    pdf_file,
    post_upload,
)
from platform_site.llm.tests.fakes.gemini import FakeGemini
from tests.pdfs import HANDWRITTEN_FIXTURE, blank_pdf, encrypted_pdf, pdf_with_text

pytestmark = pytest.mark.django_db


def test_the_upload_page_needs_a_login(client: Client) -> None:
    response = client.get(UPLOAD)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_an_upload_beyond_the_processs_slots_waits_then_gets_a_429_and_stores_nothing(
    logged_in: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.LATEXOCR_MAX_CONCURRENT_UPLOADS = 1
    settings.LATEXOCR_UPLOAD_WAIT_S = 0.05
    assert upload_slots.acquire(timeout_s=0)  # another upload in progress
    try:
        response = post_upload(logged_in, pdf_with_text(["x"]), django_capture_on_commit_callbacks)
    finally:
        upload_slots.release()

    assert response.status_code == 429
    assert "Trop de dépôts sont en cours" in response.content.decode()
    assert not Conversion.objects.exists()
    assert upload_slots.busy == 0


def test_the_upload_page_shows_the_form(logged_in: Client) -> None:
    response = logged_in.get(UPLOAD)

    assert response.status_code == 200
    assert b'name="pdf"' in response.content


def test_an_upload_redirects_to_its_conversion_which_runs_in_the_background(
    logged_in: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    response = post_upload(
        logged_in, pdf_with_text(["Bonjour le monde"]), django_capture_on_commit_callbacks
    )

    conversion = Conversion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ocr/{conversion.pk}/"
    assert conversion.owner == user
    assert conversion.original_filename == "td1.pdf"
    assert conversion.status == Conversion.Status.DONE
    assert "Bonjour le monde" in conversion.latex


def test_an_upload_through_gemini_stores_model_and_tokens(
    logged_in: Client, gemini_backend: FakeGemini, django_capture_on_commit_callbacks: Any
) -> None:
    post_upload(logged_in, HANDWRITTEN_FIXTURE.read_bytes(), django_capture_on_commit_callbacks)

    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.backend == "gemini"
    assert conversion.model == "gemini-3.8-flash"
    assert conversion.gemini_calls == 1
    assert conversion.input_tokens and conversion.output_tokens
    assert conversion.latex.startswith("\\documentclass")


@needs_tesseract
def test_the_handwritten_fixture_with_the_local_backend_is_flagged_and_free(
    logged_in: Client, user: User, django_capture_on_commit_callbacks: Any
) -> None:
    post_upload(logged_in, HANDWRITTEN_FIXTURE.read_bytes(), django_capture_on_commit_callbacks)

    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.page_issues == {"1": "low_confidence"}
    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert 'id="page-issues"' in page
    assert "Page 1 : le texte semble manuscrit" in page
    assert "l’écriture manuscrite et les formules demandent le moteur Gemini" in page
    # Nothing usable was read: the conversion is not counted in the daily quota.
    assert conversion_quota_remaining(user=user) == 30


def test_a_scan_without_tesseract_fails_with_a_clear_message(
    logged_in: Client,
    user: User,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    post_upload(logged_in, HANDWRITTEN_FIXTURE.read_bytes(), django_capture_on_commit_callbacks)

    conversion = Conversion.objects.get()
    assert conversion.status == Conversion.Status.FAILED
    assert conversion.error_code == "latexocr.scans_unreadable_here"
    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert "ce site ne peut pas lire les documents scannés pour le moment" in page
    assert conversion_quota_remaining(user=user) == 30


def test_an_upload_larger_than_the_limit_is_refused_with_413_and_not_stored(
    logged_in: Client, settings: Any
) -> None:
    settings.LATEXOCR_MAX_UPLOAD_MB = 1
    big = blank_pdf(1) + b"%" * (2 * 1024 * 1024)

    response = logged_in.post(UPLOAD, {"pdf": pdf_file(big)})

    assert response.status_code == 413
    assert "taille maximale de 1 Mo" in response.content.decode()
    assert not Conversion.objects.exists()


def test_an_upload_just_over_the_limit_is_stopped_while_it_streams(
    logged_in: Client, settings: Any
) -> None:
    # Within the multipart allowance, so the declared length passes: the handler counts.
    settings.LATEXOCR_MAX_UPLOAD_MB = 1
    data = blank_pdf(1) + b"%" * (1024 * 1024)

    response = logged_in.post(UPLOAD, {"pdf": pdf_file(data)})

    assert response.status_code == 413
    assert not Conversion.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"just some text", "est pas un PDF"),
        (b"%PDF-1.7\nnot really", "endommagé ou illisible"),
        (encrypted_pdf(), "mot de passe"),
    ],
    # The encrypted PDF differs at each build: named ids keep the collection the same in
    # every process (pytest-xdist compares them).
    ids=["text", "damaged", "encrypted"],
)
def test_an_invalid_pdf_is_refused_with_400_and_its_reason(
    logged_in: Client, data: bytes, message: str
) -> None:
    response = logged_in.post(UPLOAD, {"pdf": pdf_file(data)})

    assert response.status_code == 400
    assert any(
        part in response.content.decode().replace("&#x27;", "'") for part in message.split("|")
    )
    assert not Conversion.objects.exists()


def test_a_pdf_with_too_many_pages_is_refused_with_400(logged_in: Client, settings: Any) -> None:
    settings.LATEXOCR_MAX_PAGES = 3

    response = logged_in.post(UPLOAD, {"pdf": pdf_file(blank_pdf(4))})

    assert response.status_code == 400
    assert "la limite est de 3 pages" in response.content.decode()


def test_a_post_without_a_file_is_refused_with_400(logged_in: Client) -> None:
    response = logged_in.post(UPLOAD, {})

    assert response.status_code == 400


def test_the_upload_checks_the_csrf_token(user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(UPLOAD, {"pdf": pdf_file(blank_pdf(1))})

    assert response.status_code == 403
    assert not Conversion.objects.exists()


def test_the_daily_quota_refuses_more_uploads_with_429(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.LATEXOCR_DAILY_QUOTA = 2
    ConversionFactory.create_batch(2, owner=user)

    response = logged_in.post(UPLOAD, {"pdf": pdf_file(blank_pdf(1))})

    assert response.status_code == 429
    assert Conversion.objects.count() == 2


def test_the_same_pdf_again_offers_the_existing_result(
    logged_in: Client, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = pdf_with_text(["Même document"])
    post_upload(logged_in, pdf, django_capture_on_commit_callbacks)
    first = Conversion.objects.get()

    response = post_upload(logged_in, pdf, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert f"/ocr/{first.pk}/" in response.content.decode()
    assert Conversion.objects.count() == 1


def test_the_same_pdf_from_another_user_is_not_offered(
    client: Client, user: User, other_user: User, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = pdf_with_text(["Même document"])
    client.force_login(user)
    post_upload(client, pdf, django_capture_on_commit_callbacks)
    client.force_login(other_user)

    response = post_upload(client, pdf, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert Conversion.objects.count() == 2


def test_the_same_pdf_can_be_converted_again_when_asked(
    logged_in: Client, django_capture_on_commit_callbacks: Any
) -> None:
    pdf = pdf_with_text(["Même document"])
    post_upload(logged_in, pdf, django_capture_on_commit_callbacks)

    response = post_upload(logged_in, pdf, django_capture_on_commit_callbacks, force="on")

    assert response.status_code == 302
    assert Conversion.objects.count() == 2


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "status/"),
        ("get", "download/"),
        ("post", "retry/"),
        ("post", "delete/"),
    ],
)
def test_another_users_conversion_is_404(
    logged_in: Client, other_user: User, method: str, suffix: str
) -> None:
    conversion = ConversionFactory.create(owner=other_user, status="failed", latex="secret")

    response = getattr(logged_in, method)(f"/ocr/{conversion.pk}/{suffix}")

    assert response.status_code == 404
    assert Conversion.objects.filter(pk=conversion.pk, status="failed").exists()


def test_the_history_lists_only_the_users_conversions(
    logged_in: Client, user: User, other_user: User
) -> None:
    ConversionFactory.create(owner=user, original_filename="mien.pdf")
    ConversionFactory.create(owner=other_user, original_filename="autre.pdf")

    page = logged_in.get(reverse("latexocr:history")).content.decode()

    assert "mien.pdf" in page
    assert "autre.pdf" not in page


def test_retry_queues_a_failed_conversion_again_without_a_new_upload(
    logged_in: Client,
    user: User,
    gemini_backend: FakeGemini,
    django_capture_on_commit_callbacks: Any,
) -> None:
    conversion = ConversionFactory.create(
        owner=user, status="failed", error_code="llm.unreachable", charged=False
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/ocr/{conversion.pk}/retry/")

    assert response.status_code == 302
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.error_code == ""
    assert conversion.charged
    assert [r.pdf_pages for r in gemini_backend.generate_requests()] == [2]


def test_a_conversion_run_too_often_offers_no_retry_and_says_to_upload_anew(
    logged_in: Client, user: User, settings: Any
) -> None:
    settings.LATEXOCR_MAX_RUNS = 3
    conversion = ConversionFactory.create(
        owner=user, status="failed", error_code="llm.unreachable", attempts=3
    )

    response = logged_in.post(f"/ocr/{conversion.pk}/retry/", follow=True)

    page = response.content.decode()
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "déjà été lancée 3 fois" in page
    assert "Lancée 3 fois sans aboutir" in page
    assert f'action="/ocr/{conversion.pk}/retry/"' not in page


def test_retry_of_a_done_conversion_changes_nothing(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="done", latex="x")

    response = logged_in.post(f"/ocr/{conversion.pk}/retry/")

    assert response.status_code == 302
    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE


def test_delete_removes_the_pdf_and_the_result(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="done", latex="x")

    response = logged_in.post(f"/ocr/{conversion.pk}/delete/", {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("latexocr:history")
    assert not Conversion.objects.filter(pk=conversion.pk).exists()


def test_delete_asks_for_confirmation_first_and_keeps_everything_until_then(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(owner=user, status="done", latex="x")

    response = logged_in.post(f"/ocr/{conversion.pk}/delete/")

    assert response.status_code == 200
    assert 'name="confirm" value="yes"' in response.content.decode()
    assert Conversion.objects.filter(pk=conversion.pk).exists()


def test_the_history_shows_whether_each_done_conversion_compiles(
    logged_in: Client, user: User
) -> None:
    compiled_conversion(user, original_filename="bon.pdf")
    ConversionFactory.create(
        owner=user, status="done", latex="x", original_filename="casse.pdf", compile_status="fails"
    )

    page = logged_in.get(reverse("latexocr:history")).content.decode()

    assert page.count('<span class="badge badge-success">se compile</span>') == 1
    assert page.count('<span class="badge badge-danger">ne se compile pas</span>') == 1


def test_a_failure_recorded_in_french_reads_in_english_after_switching(
    logged_in: Client, user: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    post_upload(logged_in, blank_pdf(1), django_capture_on_commit_callbacks)
    conversion = Conversion.objects.get()
    french = logged_in.get(f"/ocr/{conversion.pk}/status/").json()

    logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    # The middleware activates English for the thread: override() restores it afterwards.
    with translation.override(settings.LANGUAGE_CODE):
        english = logged_in.get(f"/ocr/{conversion.pk}/status/").json()
        page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "Aucun texte n’a été trouvé dans ce PDF" in french["error"]
    assert english["error"].startswith("No text was found in this PDF")
    assert english["error_code"] == "latexocr.no_text_found"
    assert "No text was found in this PDF" in page
    assert "Aucun texte" not in page
