from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from latexocr.conversions.selectors import conversion_quota_remaining
from latexocr.conversions.uploads import upload_slots
from latexocr.engines import tesseract
from latexocr.models import Conversion, Version
from latexocr.tests.engines.test_tesseract import needs_tesseract
from latexocr.tests.factories import ConversionFactory, with_versions
from latexocr.tex.errors import log_errors
from tests.fakes.gemini import FakeGemini
from tests.pdfs import HANDWRITTEN_FIXTURE, blank_pdf, encrypted_pdf, pdf_with_text

pytestmark = pytest.mark.django_db

UPLOAD = "/ocr/"


def pdf_file(data: bytes, name: str = "td1.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def post_upload(client: Client, data: bytes, run: Callable[..., Any], **extra: Any) -> Any:
    with run(execute=True):
        return client.post(UPLOAD, {"pdf": pdf_file(data), **extra})


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


def test_a_done_conversion_shows_the_latex_download_and_overleaf(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user, status="done", latex="\\documentclass{article}<x>", original_filename="a b.pdf"
    )
    with_versions(conversion)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "\\documentclass{article}&lt;x&gt;</textarea>" in page
    assert f"/ocr/{conversion.pk}/versions/1/tex/download/" in page
    assert 'action="https://www.overleaf.com/docs"' in page
    assert 'name="snip"' in page
    overleaf_form = page.split('action="https://www.overleaf.com/docs"')[1].split("</form>")[0]
    assert "csrfmiddlewaretoken" not in overleaf_form
    assert "<script>" not in page


def test_a_running_conversion_page_loads_the_polling_script(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="running", pages_done=1)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert f'data-status-url="/ocr/{conversion.pk}/status/"' in page
    assert "js/latexocr.js" in page


def test_the_status_answers_json_with_status_progress_and_error(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(owner=user, status="running", page_count=4, pages_done=1)

    response = logged_in.get(f"/ocr/{conversion.pk}/status/")

    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "running"
    assert data["progress"] == 25
    assert data["error"] == ""
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_the_download_is_an_attachment_with_a_name_we_build(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        original_filename='../../etc/pass"wd é.pdf',
    )
    with_versions(conversion)

    # The address before versions leads to version 1's, named as a version.
    response = logged_in.get(f"/ocr/{conversion.pk}/download/", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-tex")
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="passwd-e-{str(conversion.pk)[:8]}-v1.tex"'
    assert response.content == b"\\documentclass{article}"


def test_a_conversion_not_done_has_nothing_to_download(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="running")

    assert logged_in.get(f"/ocr/{conversion.pk}/download/").status_code == 404


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
        owner=user, status="failed", error_code="gemini.unavailable", charged=False
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
        owner=user, status="failed", error_code="gemini.unavailable", attempts=3
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

    response = logged_in.post(f"/ocr/{conversion.pk}/delete/")

    assert response.status_code == 302
    assert response["Location"] == reverse("latexocr:history")
    assert not Conversion.objects.filter(pk=conversion.pk).exists()


# --- compile check: badge, errors, PDF preview and downloads ------------------------------

FAKE_PDF = b"%PDF-1.4\n% a compiled document\n%%EOF\n"
ORIGINAL_ERRORS = [
    {"line": 5, "message": "Commande inconnue : \\mathbb (il manque \\usepackage{amssymb})."}
]


def compiled_conversion(owner: User, **fields: Any) -> Conversion:
    values: dict[str, Any] = {
        "owner": owner,
        "status": "done",
        "latex": "\\documentclass{article} % original",
        "compile_status": Version.CompileStatus.COMPILES,
        "compiled_version": "original",
        "compiled_pdf": FAKE_PDF,
        "compiled_page_count": 2,
        **fields,
    }
    return ConversionFactory.create(**values)


def repaired_conversion(owner: User) -> Conversion:
    return compiled_conversion(
        owner,
        latex_repaired="\\documentclass{article} % repaired",
        compiled_version="repaired",
        compile_errors=ORIGINAL_ERRORS,
    )


def test_a_document_that_compiles_shows_the_badge_the_preview_and_the_pdf_download(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert 'id="compile-badge">se compile</span>' in page
    assert "ne se compile pas" not in page
    assert "PDF de 2 pages." in page
    assert f'<iframe class="pdf-preview" src="/ocr/{conversion.pk}/versions/1/pdf/"' in page
    assert f'href="/ocr/{conversion.pk}/versions/1/pdf/download/"' in page
    assert "Télécharger le PDF" in page
    assert "Restaurer" not in page


def test_a_repaired_document_says_which_version_compiled_and_offers_both(
    logged_in: Client, user: User
) -> None:
    conversion = repaired_conversion(user)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    # Version 2 (the repair round's) is the current one; version 1 stays listed.
    assert "LaTeX (version 2)" in page
    assert 'id="compile-badge">se compile</span>' in page
    assert f'<iframe class="pdf-preview" src="/ocr/{conversion.pk}/versions/2/pdf/"' in page
    for number in (1, 2):
        assert f'href="/ocr/{conversion.pk}/versions/{number}/tex/download/"' in page
    assert f'action="/ocr/{conversion.pk}/versions/1/restore/"' in page
    assert "corrigée par Gemini" in page
    source = page.split('id="latex-editor"')[1].split("</textarea>")[0]
    assert "% repaired" in source


def test_a_document_that_does_not_compile_shows_its_first_errors_and_no_preview(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=[*ORIGINAL_ERRORS, {"line": None, "message": "Erreur sans ligne."}],
        compile_log_excerpt="! Undefined control sequence.",
        repair_error="Gemini est indisponible pour le moment",
    )

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert 'id="compile-badge">ne se compile pas</span>' in page
    # A click on the line number puts the editor on that line.
    assert (
        '<a href="#latex-editor" data-editor-line="5">ligne 5</a> : Commande inconnue : \\mathbb'
        in page
    )
    assert "<li>Erreur sans ligne.</li>" in page
    assert "! Undefined control sequence." in page
    assert "/versions/1/pdf/" not in page
    assert 'class="pdf-preview" src="/ocr/' in page  # the uploaded PDF only
    assert "Télécharger le .tex" in page


def test_a_repair_that_failed_too_shows_the_errors_of_both_versions(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        latex_repaired="\\documentclass{article} % repaired",
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=ORIGINAL_ERRORS,
        repaired_compile_errors=[{"line": 7, "message": "Double exposant."}],
    )

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    # The current version is the repaired one: its errors are shown; both are listed.
    assert 'data-editor-line="7">ligne 7</a> : Double exposant.' in page
    assert "ligne 5" not in page
    assert page.count('<span class="badge badge-danger">ne se compile pas</span>') == 2
    assert f'href="/ocr/{conversion.pk}/versions/1/tex/"' in page


def test_a_skipped_check_says_so_plainly_and_only_staff_read_its_reason(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        compile_status=Version.CompileStatus.SKIPPED,
        compile_skipped_reason="Vérification désactivée : aucun compilateur LaTeX configuré.",
    )

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "La compilation n’est pas vérifiée sur ce site" in page
    assert "compilateur" not in page
    assert "se compile" not in page
    assert "/versions/1/pdf/" not in page
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    staff_page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
    assert "Pour l’équipe : Vérification désactivée : aucun compilateur" in staff_page


def test_the_pdf_is_served_inline_to_its_owner_with_its_content_type(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user, original_filename="TD 3.pdf")

    response = logged_in.get(f"/ocr/{conversion.pk}/pdf/", follow=True)

    # The address before versions moved for good to the current version's.
    assert response.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/pdf/", 301)]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'inline; filename="td-3-{str(conversion.pk)[:8]}-v1.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == FAKE_PDF


def test_the_pdf_may_be_framed_by_the_site_only_and_other_pages_by_nobody(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user)

    pdf = logged_in.get(f"/ocr/{conversion.pk}/pdf/", follow=True)
    page = logged_in.get(f"/ocr/{conversion.pk}/")

    assert pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf["Content-Security-Policy"]
    assert "object-src 'self'" in pdf["Content-Security-Policy"]
    assert "script-src" not in pdf["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-src 'self'" in page["Content-Security-Policy"]


def test_the_pdf_download_is_an_attachment(logged_in: Client, user: User) -> None:
    conversion = compiled_conversion(user)

    response = logged_in.get(f"/ocr/{conversion.pk}/pdf/download/", follow=True)

    assert response.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/pdf/download/", 301)]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="td1-')
    assert response.content == FAKE_PDF


def test_the_pdf_addresses_before_versions_lead_to_the_current_versions_pdf(
    logged_in: Client, user: User
) -> None:
    conversion = repaired_conversion(user)

    for suffix in ("pdf/", "pdf/download/"):
        response = logged_in.get(f"/ocr/{conversion.pk}/{suffix}")
        assert response.status_code == 301
        assert response["Location"] == f"/ocr/{conversion.pk}/versions/2/{suffix}"


def test_each_latex_version_downloads_under_its_own_name(logged_in: Client, user: User) -> None:
    conversion = repaired_conversion(user)
    prefix = f"td1-{str(conversion.pk)[:8]}"

    original = logged_in.get(f"/ocr/{conversion.pk}/download/", follow=True)
    repaired = logged_in.get(f"/ocr/{conversion.pk}/download/repaired/", follow=True)

    # The addresses before versions moved for good to versions 1 and 2, named as versions.
    assert original.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/tex/download/", 301)]
    assert repaired.redirect_chain == [(f"/ocr/{conversion.pk}/versions/2/tex/download/", 301)]
    assert original.content == b"\\documentclass{article} % original"
    assert original["Content-Disposition"] == f'attachment; filename="{prefix}-v1.tex"'
    assert repaired.content == b"\\documentclass{article} % repaired"
    assert repaired["Content-Disposition"] == f'attachment; filename="{prefix}-v2.tex"'
    assert repaired["Content-Type"].startswith("application/x-tex")


def test_without_a_compiled_pdf_or_a_repair_there_is_nothing_to_fetch(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user, status="done", latex="x", compile_status=Version.CompileStatus.FAILS
    )

    for suffix in ("pdf/", "pdf/download/", "download/repaired/"):
        assert logged_in.get(f"/ocr/{conversion.pk}/{suffix}", follow=True).status_code == 404


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/download/", "download/repaired/", "download/"])
def test_another_users_pdf_and_repaired_latex_are_404(
    logged_in: Client, other_user: User, suffix: str
) -> None:
    conversion = repaired_conversion(other_user)

    response = logged_in.get(f"/ocr/{conversion.pk}/{suffix}")

    assert response.status_code == 404
    assert FAKE_PDF not in response.content


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/download/", "download/repaired/"])
def test_the_pdf_and_repaired_latex_need_a_login(client: Client, user: User, suffix: str) -> None:
    conversion = repaired_conversion(user)

    response = client.get(f"/ocr/{conversion.pk}/{suffix}")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_status_reports_the_current_versions_compile(logged_in: Client, user: User) -> None:
    conversion = repaired_conversion(user)

    data = logged_in.get(f"/ocr/{conversion.pk}/status/").json()

    # Version 2 (the repair round's answer) is current: it compiles, without errors.
    assert data["version"] == 2
    assert data["compile_status"] == "compiles"
    assert data["compile_status_label"] == "se compile"
    assert data["compile_errors"] == []
    assert data["compiled_page_count"] == 2
    assert data["compile_skipped_reason"] == ""


def test_the_status_follows_the_newest_version_not_the_first_check(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user)
    Version.objects.create(
        conversion=conversion,
        number=2,
        origin=Version.Origin.EDITED,
        latex="\\documentclass{article} % edited",
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=ORIGINAL_ERRORS,
    )

    data = logged_in.get(f"/ocr/{conversion.pk}/status/").json()
    history = logged_in.get(reverse("latexocr:history")).content.decode()

    assert data["version"] == 2
    assert data["compile_status"] == "fails"
    assert data["compile_errors"] == ORIGINAL_ERRORS
    assert '<span class="badge badge-danger">ne se compile pas</span>' in history
    assert "badge-success" not in history


def test_a_conversion_still_running_reports_no_compile_yet(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="running")

    data = logged_in.get(f"/ocr/{conversion.pk}/status/").json()

    assert data["version"] is None
    assert data["compile_status"] == ""
    assert data["compile_errors"] == []


def test_a_running_conversion_with_every_page_done_says_it_is_checking_the_compile(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(owner=user, status="running", pages_done=2)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "Vérification de la compilation…</span>" in page


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


def test_compile_errors_are_shown_as_text_not_html(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        compile_status=Version.CompileStatus.FAILS,
        latex="\\documentclass{article}",
        compile_errors=[{"line": 3, "message": "Erreur TeX : <script>alert(1)</script>"}],
        compile_log_excerpt="! <img src=x onerror=alert(2)>",
    )

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page
    assert "<img src=x" not in page


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


def test_compile_errors_saved_by_the_worker_read_in_the_language_of_the_page(
    logged_in: Client, user: User, settings: Any
) -> None:
    with translation.override("fr"):  # the task worker's language
        errors = [
            asdict(error) for error in log_errors(log="! Missing $ inserted.\nl.5 x\n", source="")
        ]
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=errors,
    )
    french_page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override(settings.LANGUAGE_CODE):
        page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()
        status = logged_in.get(f"/ocr/{conversion.pk}/status/").json()
        version_status = logged_in.get(f"/ocr/{conversion.pk}/versions/1/status/").json()

    assert 'data-editor-line="5">ligne 5</a> : Formule mathématique hors de $...$' in french_page
    assert "Erreurs de compilation :" in french_page
    english = "Mathematics outside $...$"
    # English typography too: no space before the colons.
    assert f'data-editor-line="5">line 5</a>: {english}' in page
    assert "Compile errors:" in page and "Formule mathématique" not in page
    assert ">Compiled PDF</button>" in page  # a tab's label, capitalised
    assert status["compile_errors"][0]["line"] == 5
    assert status["compile_errors"][0]["message"].startswith(english)
    assert version_status["errors"][0]["message"].startswith(english)
