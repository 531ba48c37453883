"""Journeys 5 and 6: a handwritten PDF becomes LaTeX; a file that is not a PDF is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LATEX_COMPILER, LiveSite, screenshot
from tests.e2e.helpers import (
    assert_fields_labelled,
    assert_fits_narrow_screen,
    register,
    unique_username,
)
from tests.pdfs import HANDWRITTEN_FIXTURE

pytestmark = pytest.mark.e2e


def test_a_handwritten_pdf_shows_progress_then_latex_that_downloads_as_a_tex_file(
    page: Page, live_site: LiveSite, tmp_path: Path
) -> None:
    register(page, unique_username("noe"))
    page.get_by_role("navigation").get_by_role("link", name="PDF vers LaTeX").click()
    assert_fields_labelled(page)

    page.get_by_label("Fichier PDF").set_input_files(HANDWRITTEN_FIXTURE)
    page.get_by_role("button", name="Convertir", exact=True).click()

    # The fake Gemini answers slowly enough for the queued/running state to be seen.
    progress = page.locator("#conversion-progress")
    expect(progress).to_have_attribute("aria-live", "polite")
    expect(page.locator("progress")).to_be_visible()
    screenshot(page, "5-latexocr-progress")

    # The result: the LaTeX in the editor (CodeMirror over the form's textarea).
    latex = page.locator(".cm-content")
    expect(latex).to_contain_text("\\documentclass", timeout=60_000)
    expect(latex).to_contain_text("\\end{document}")
    expect(page.locator("#conversion-status")).to_have_text("terminée")
    if LATEX_COMPILER:
        # The fake Gemini's document compiles: the badge, the preview frame and its PDF.
        expect(page.locator("#compile-badge")).to_have_text("se compile", timeout=60_000)
        preview = page.locator("#pane-compiled iframe.pdf-preview")
        expect(preview).to_be_visible()
        pdf_url = live_site.url(str(preview.get_attribute("src")))
        pdf = page.context.request.get(pdf_url)
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
        expect(page.get_by_role("link", name="Télécharger le PDF", exact=True)).to_be_visible()
    else:
        expect(page.locator("#compile-badge")).to_have_text("non vérifiée")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le .tex", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".tex")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert "\\documentclass" in saved.read_text(encoding="utf-8")
    screenshot(page, "5-latexocr-done")

    page.get_by_role("link", name="Vos conversions").click()
    expect(page.get_by_role("table")).to_contain_text("handwritten-maths-fr.pdf")
    assert_fits_narrow_screen(page)
    screenshot(page, "5-latexocr-history-at-360px")


def test_a_file_that_is_not_a_pdf_is_refused_with_a_clear_message(
    page: Page, live_site: LiveSite, tmp_path: Path
) -> None:
    not_a_pdf = tmp_path / "devoir.pdf"
    not_a_pdf.write_text("Exercice 1 : calculer la dérivée de x².\n", encoding="utf-8")
    register(page, unique_username("zoe"))
    page.goto("/ocr/")

    page.get_by_label("Fichier PDF").set_input_files(not_a_pdf)
    page.get_by_role("button", name="Convertir", exact=True).click()

    expect(page).to_have_url("/ocr/")
    expect(page.locator(".errorlist")).to_contain_text(re.compile(r"Ce fichier n.est pas un PDF"))
    expect(page.get_by_label("Fichier PDF")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "6-latexocr-not-a-pdf")
