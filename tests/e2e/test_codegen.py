"""Journey 4: a Python question gets highlighted code and its explanation, copied and kept."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot
from tests.e2e.helpers import (
    assert_fields_labelled,
    assert_fits_narrow_screen,
    register,
    unique_username,
)

pytestmark = pytest.mark.e2e

PROBLEM = "Écrire une fonction qui renvoie la somme des nombres pairs d'une liste."


def test_a_question_shows_highlighted_code_and_explanation_that_copy_and_stay_in_history(
    page: Page, live_site: LiveSite
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_site.base_url)
    register(page, unique_username("lea"))
    page.get_by_role("navigation").get_by_role("link", name="Code Python").click()
    assert_fields_labelled(page)
    quota_before = page.locator("#codegen-quota").inner_text()

    page.get_by_label("Votre problème").fill(PROBLEM)
    page.get_by_role("button", name="Obtenir le code").click()

    result = page.locator("#question-result")
    expect(result).to_be_visible(timeout=30_000)
    expect(page.locator("#question-status")).to_have_text("Réponse reçue.")
    # Pygments marks keywords (`def`, `return`) with the "k" class: the code is highlighted.
    expect(page.locator("#question-code .highlight .k").first).to_have_text(re.compile("def"))
    expect(page.locator("#question-syntax")).to_have_text(
        "Le code est du Python valide (analysé, jamais exécuté)."
    )
    expect(page.locator("#question-explanation")).to_contain_text("linéaire")
    expect(page.locator("#codegen-quota")).not_to_have_text(quota_before)

    page.get_by_role("button", name="Copier le code").click()
    expect(page.get_by_role("button", name="Copié !")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("def resoudre(")
    assert copied == page.locator("#question-code").inner_text().rstrip()
    screenshot(page, "4-codegen-answer")

    page.get_by_role("link", name="Vos questions").click()
    entry = page.locator("article.codegen-entry").first
    expect(entry).to_contain_text(PROBLEM)
    expect(entry.locator(".badge")).to_have_text("répondue")
    entry.get_by_text("Voir la réponse").click()
    expect(entry.locator(".highlight")).to_contain_text("def resoudre(")
    assert_fits_narrow_screen(page)
    screenshot(page, "4-codegen-history-at-360px")
