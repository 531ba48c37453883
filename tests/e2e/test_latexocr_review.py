"""Journey 8: review a conversion — compare the PDFs, fix a line, recompile, versions — with
and without JavaScript, and nobody else's URLs answer."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from tests.e2e.conftest import LATEX_COMPILER, LiveSite, screenshot
from tests.e2e.helpers import (
    PASSWORD,
    assert_fields_labelled,
    assert_fits_narrow_screen,
    log_in,
    register,
    unique_username,
)
from tests.pdfs import pdf_with_text

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not LATEX_COMPILER, reason="the review journey compiles with latexmk"),
]
FIXED_MARKER = "Ligne corrigee 42"


def upload_and_wait(page: Page, tmp_path: Path) -> str:
    """Upload a two-page PDF; wait for its result page; its URL."""
    sheet = tmp_path / "feuille.pdf"
    sheet.write_bytes(pdf_with_text(["Exercice 1 : calculer 2+2.", "Exercice 2 : tracer f."]))
    page.goto("/ocr/")
    page.get_by_label("Fichier PDF").set_input_files(sheet)
    page.get_by_role("button", name="Convertir", exact=True).click()
    expect(page.locator("#compile-badge")).to_have_text("se compile", timeout=60_000)
    return page.url


def editor_text(page: Page) -> str:
    # The hidden textarea keeps the version the page was rendered with.
    return page.locator("#latex-editor").input_value()


PASTE_JS = """
(text) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  const content = document.querySelector(".latex-codemirror").shadowRoot
    .querySelector(".cm-content");
  content.dispatchEvent(
    new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true})
  );
}
"""


def replace_in_codemirror(page: Page, text: str) -> None:
    """Select all and paste, as a student would (CodeMirror handles the paste itself)."""
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    # keyboard.insert_text would go through the browser's own contenteditable editing,
    # which writes style attributes the CSP refuses; a real paste does not.
    page.evaluate(PASTE_JS, text)


def review_screenshot(page: Page, name: str) -> None:
    """A full-page screenshot once the editor has been on screen, as a student scrolls to it:
    CodeMirror measures its lines (and sizes its line numbers) only when it is visible."""
    page.locator(".latex-codemirror").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, name)


def pdf_text(page: Page, url: str) -> str:
    response = page.context.request.get(url)
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    return " ".join(p.extract_text() or "" for p in reader.pages)


def test_a_student_compares_fixes_a_line_recompiles_and_restores_a_version(
    page: Page, live_site: LiveSite, browser: Browser, tmp_path: Path
) -> None:
    username = unique_username("ines")
    register(page, username)
    url = upload_and_wait(page, tmp_path)
    conversion_path = url.removeprefix(live_site.base_url)

    # Side by side on a desktop screen: the uploaded PDF and the compiled one.
    source_frame = page.locator("#pane-source iframe.pdf-preview")
    compiled_frame = page.locator("#pane-compiled iframe.pdf-preview")
    expect(source_frame).to_be_visible()
    expect(compiled_frame).to_be_visible()
    source_box = page.locator("#pane-source").bounding_box()
    compiled_box = page.locator("#pane-compiled").bounding_box()
    assert source_box is not None and compiled_box is not None
    assert source_box["x"] + source_box["width"] <= compiled_box["x"]
    # CodeMirror replaced the textarea: line numbers and LaTeX highlighting.
    expect(page.locator(".cm-editor .cm-lineNumbers")).to_be_visible()
    expect(page.locator("#latex-editor")).to_be_hidden()
    expect(page.locator(".cm-content")).to_have_attribute("aria-label", "Source LaTeX")
    assert page.locator(".cm-content span[class]").count() > 0
    assert_fields_labelled(page)
    review_screenshot(page, "8-review-side-by-side")

    # A mistake: an unknown command on its own line, before \end{document}.
    original = editor_text(page)
    broken = original.replace("\\end{document}", "\\commandeinconnue\n\\end{document}")
    broken_line = broken.splitlines().index("\\commandeinconnue") + 1
    replace_in_codemirror(page, broken)
    page.get_by_role("button", name="Enregistrer et compiler").click()
    expect(page.locator("#compile-badge")).to_have_text("ne se compile pas", timeout=30_000)
    expect(page.get_by_role("heading", name="LaTeX (version 2)")).to_be_visible()
    error_link = page.locator(f'[data-editor-line="{broken_line}"]')
    expect(error_link).to_have_text(f"ligne {broken_line}")
    review_screenshot(page, "8-review-errors")

    # A click on the error's line puts the editor there.
    error_link.click()
    expect(page.locator(".cm-activeLine")).to_have_text("\\commandeinconnue")
    expect(page.locator(".cm-content")).to_be_focused()

    # The fix, recompiled: the new PDF shows it.
    fixed = broken.replace("\\commandeinconnue", FIXED_MARKER)
    replace_in_codemirror(page, fixed)
    page.get_by_role("button", name="Enregistrer et compiler").click()
    expect(page.locator("#compile-badge")).to_have_text("se compile", timeout=30_000)
    expect(compiled_frame).to_have_attribute("src", re.compile(r"/versions/3/pdf/$"))
    assert FIXED_MARKER in pdf_text(page, str(compiled_frame.get_attribute("src")))
    review_screenshot(page, "8-review-fixed")

    # Version 1's .tex downloads; version 1 restored becomes version 4.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="télécharger le .tex de la version 1").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.read_text(encoding="utf-8") == original
    page.get_by_role("button", name="Restaurer la version 1").click()
    expect(page.get_by_text("La version 1 est restaurée")).to_be_visible()
    expect(page.get_by_role("heading", name="LaTeX (version 4)")).to_be_visible()
    assert editor_text(page) == original
    review_screenshot(page, "8-review-versions")

    # On a phone: tabs instead of two columns, nothing sticks out.
    assert_fits_narrow_screen(page)
    expect(page.get_by_role("tab", name="PDF compilé")).to_have_attribute("aria-selected", "true")
    expect(compiled_frame).to_be_visible()
    expect(source_frame).to_be_hidden()
    page.get_by_role("tab", name="PDF déposé").click()
    expect(source_frame).to_be_visible()
    expect(compiled_frame).to_be_hidden()
    review_screenshot(page, "8-review-at-360px")

    # Another student: 404 on every URL of this conversion, GET or POST.
    other = browser.new_context(base_url=live_site.base_url, locale="fr-FR")
    stranger = other.new_page()
    register(stranger, unique_username("intrus"))
    token = next(c["value"] for c in other.cookies() if c["name"] == "csrftoken")
    for suffix in (
        "",
        "source.pdf",
        "versions/1/status/",
        "versions/1/tex/",
        "versions/1/tex/download/",
        "versions/3/pdf/",
        "versions/3/pdf/download/",
    ):
        assert other.request.get(conversion_path + suffix).status == 404, suffix
    for suffix in ("edit/", "repair/", "versions/1/restore/"):
        response = other.request.post(
            conversion_path + suffix,
            multipart={"latex": "x"},
            headers={"X-CSRFToken": token, "Referer": live_site.base_url + "/"},
        )
        assert response.status == 404, suffix
    other.close()


def test_without_javascript_the_textarea_saves_and_the_page_refreshes_to_the_new_pdf(
    page: Page, live_site: LiveSite, browser: Browser, tmp_path: Path
) -> None:
    username = unique_username("noa")
    register(page, username)
    url = upload_and_wait(page, tmp_path)

    context = browser.new_context(
        base_url=live_site.base_url, locale="fr-FR", java_script_enabled=False
    )
    no_js = context.new_page()
    log_in(no_js, username, PASSWORD)
    no_js.goto(url)
    textarea = no_js.get_by_label("Source LaTeX")
    expect(textarea).to_be_visible()
    # Both PDFs stacked, no tabs.
    expect(no_js.locator("#pane-source iframe")).to_be_visible()
    expect(no_js.get_by_role("tab", name="PDF déposé")).to_be_hidden()
    latex = textarea.input_value()
    textarea.fill(latex.replace("\\end{document}", FIXED_MARKER + "\n\\end{document}"))
    no_js.get_by_role("button", name="Enregistrer et compiler").click()

    # The page refreshes itself (meta refresh in <noscript>) until the PDF is there.
    expect(no_js.get_by_text("Version 2 enregistrée")).to_be_visible()
    expect(no_js.locator("#compile-badge")).to_have_text("se compile", timeout=30_000)
    frame = no_js.locator("#pane-compiled iframe.pdf-preview")
    expect(frame).to_have_attribute("src", re.compile(r"/versions/2/pdf/$"))
    assert FIXED_MARKER in pdf_text(no_js, str(frame.get_attribute("src")))
    screenshot(no_js, "8-review-without-javascript")
    assert_fits_narrow_screen(no_js)
    screenshot(no_js, "8-review-without-javascript-at-360px")
    context.close()
