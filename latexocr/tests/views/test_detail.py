"""The result page and its status JSON (latexocr/views/detail.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from latexocr.models import Version
from latexocr.tests.factories import ConversionFactory, with_versions
from latexocr.tests.views.builders import (
    LATEX,
    ORIGINAL_ERRORS,
    compiled_conversion,
    edit,
    repaired_conversion,
    reviewed,
)
from latexocr.tex.errors import log_errors
from tests.pdfs import blank_pdf

pytestmark = pytest.mark.django_db


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


def test_the_review_shows_the_uploaded_pdf_next_to_the_compiled_one(
    logged_in: Client, user: User
) -> None:
    conversion = reviewed(user)

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert f'src="/ocr/{conversion.pk}/source.pdf"' in page
    assert f'src="/ocr/{conversion.pk}/versions/1/pdf/"' in page
    assert 'role="tablist"' in page
    assert '<textarea name="latex" id="latex-editor"' in page
    assert 'enctype="multipart/form-data"' in page
    assert "latexocr/editor.js" in page
    # The CSP stays the site's: no inline script or style.
    assert "<script>" not in page
    assert " style=" not in page


def test_overleaf_gets_the_current_version(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)
    edit(logged_in, conversion, LATEX + "% actuelle")

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    overleaf_form = page.split('action="https://www.overleaf.com/docs"')[1].split("</form>")[0]
    assert "% actuelle" in overleaf_form


def test_a_conversion_still_running_has_no_editor(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="running", pdf=blank_pdf(1))

    page = logged_in.get(f"/ocr/{conversion.pk}/").content.decode()

    assert "latex-editor" not in page
    assert logged_in.post(f"/ocr/{conversion.pk}/edit/", {"latex": "x"}).status_code == 404
