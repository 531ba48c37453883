"""The two keyboard-only journeys (WCAG 2.1.1, 2.1.2, 2.4.3, 2.4.7): Tab, Shift+Tab, Enter,
Space and Escape alone, besides typing text. At every stop the focused element must show a
focus ring (an outline or a box-shadow), and the skip link comes first.

The only pointer-free step that is not a key: choosing the PDF, which the browser's file
dialog does; Space on the file field opens it and Playwright answers the dialog.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD, register, unique_username
from tests.pdfs import pdf_with_text

pytestmark = pytest.mark.e2e

MAX_TABS = 60
# The conversion page shows PDFs in the browser's own viewer, in frames: focus inside it is
# the browser's (the frame, or nothing the page can see), not ours (docs/accessibility.md).
PDF_VIEWER = ("iframe", "body")
DONE_BADGE = re.compile("^(se compile|ne se compile pas|non vérifiée)$")
# What the focused element is, and whether it shows a focus ring. The CodeMirror editor
# lives in a shadow root: the document's active element is its host, ringed by
# :focus-within.
FOCUS_JS = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: "body", text: "", visible: false};
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
    || style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "")
      .replace(/\s+/g, " ").trim().slice(0, 80),
    visible: ring && box.width > 0 && box.height > 0,
  };
}
"""


def focused(page: Page) -> dict[str, str | bool]:
    result: dict[str, str | bool] = page.evaluate(FOCUS_JS)
    return result


def tab_to(page: Page, pattern: str, *, backwards: bool = False, element_id: str = "") -> None:
    """Press Tab (or Shift+Tab) until the focused element's text matches `pattern` (or its
    id is `element_id`); every element passed on the way must show its focus ring (but
    inside the browser's PDF viewer)."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        state = focused(page)
        seen.append(f"{state['tag']}#{state.get('id', '')} {state['text']!r}")
        assert state["visible"] or state["tag"] in PDF_VIEWER, f"no focus ring on {seen}"
        if (element_id and state.get("id") == element_id) or (
            not element_id and re.search(pattern, str(state["text"]))
        ):
            return
    raise AssertionError(f"{pattern or element_id} not reached by {key}: {seen}")


def test_by_keyboard_a_student_logs_in_asks_reads_the_answer_and_copies_the_code(
    page: Page,
) -> None:
    username = unique_username("clavier")
    register(page, username)
    page.context.clear_cookies()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.goto("/accounts/login/")
    # The login form focuses its first field; Shift+Tab goes back to the skip link first.
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    tab_to(page, "Aller au contenu")
    tab_to(page, "", element_id="id_username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url("/home/")

    tab_to(page, "^Code Python$")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/codegen/")
    tab_to(page, "", element_id="id_message")
    page.keyboard.type("Écris une fonction qui renvoie la somme d'une liste.")
    tab_to(page, "Obtenir le code")
    page.keyboard.press("Enter")

    # The answer arrives: focus moves to its heading, announced as "Réponse reçue.".
    expect(page.locator("#question-result-title")).to_be_focused(timeout=30_000)
    expect(page.get_by_role("status")).to_have_text("Réponse reçue.")
    expect(page.locator("#question-code")).to_contain_text("def ")
    tab_to(page, "Copier le code")
    page.keyboard.press("Space")
    expect(page.locator("#question-tools [data-copy-target]")).to_have_text("Copié !")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "def " in copied


def test_by_keyboard_a_student_uploads_edits_saves_and_compiles_then_opens_a_version(
    page: Page, tmp_path: Path
) -> None:
    register(page, unique_username("clavier-pdf"))
    sheet = tmp_path / "feuille.pdf"
    sheet.write_bytes(pdf_with_text(["Exercice 1 : calculer 2+2."]))

    tab_to(page, "^PDF vers LaTeX$")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/ocr/")
    tab_to(page, "", element_id="id_pdf")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(sheet)
    tab_to(page, "^Convertir$")
    page.keyboard.press("Enter")
    expect(page.locator(".cm-content")).to_contain_text("\\documentclass", timeout=60_000)
    # The page reloads itself once the compile check is done: wait for that first.
    expect(page.locator("#compile-badge")).to_have_text(DONE_BADGE, timeout=60_000)

    # Into the editor, a line typed at the end, then out with Escape then Tab: no trap.
    expect(page.get_by_text("Échap puis Tab quitte l’éditeur")).to_be_visible()
    # On the way: the two PDF viewers; Tab must lead out of them.
    trail = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('latex-codemirror')"):
            break
        state = focused(page)
        trail.append(state)
        assert state["visible"] or state["tag"] in PDF_VIEWER, f"no focus ring: {trail}"
    else:
        raise AssertionError(f"the editor is not reachable by Tab: {trail}")
    page.keyboard.press("Control+End")
    page.keyboard.type("% relu au clavier")
    # A first Escape may only drop a selection (CodeMirror then keeps the key); the next one
    # arms its 2-second "Tab leaves" window, as the note under the editor says.
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    state = focused(page)
    assert state["text"] == "Enregistrer et compiler", state
    assert state["visible"]
    page.keyboard.press("Enter")

    expect(page.locator("#versions")).to_contain_text("modifiée", timeout=30_000)
    expect(page.locator("#latex-editor")).to_have_value(re.compile("relu au clavier"))
    tab_to(page, "^Version 1 : \\.tex$")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/versions/1/tex/$"))
