"""Journey 7: the language switch in the footer, to English and back to French."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot
from tests.e2e.helpers import register, unique_username

pytestmark = pytest.mark.e2e


def switch_language(page: Page, *, label: str, language: str, button: str) -> None:
    footer = page.get_by_role("contentinfo")
    footer.get_by_label(label).select_option(label=language)
    footer.get_by_role("button", name=button).click()


def test_the_language_switch_turns_the_site_english_and_back_to_french(
    page: Page, live_site: LiveSite
) -> None:
    register(page, unique_username("tom"))
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    switch_language(page, label="Langue", language="English", button="Changer")

    expect(page).to_have_url("/home/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation")).to_contain_text("Home")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(page, "7-home-in-english")

    switch_language(page, label="Language", language="Français", button="Change")

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("navigation")).to_contain_text("Accueil")
    screenshot(page, "7-back-in-french")


def test_a_missing_page_is_shown_in_the_site_design_in_either_language(
    page: Page, live_site: LiveSite
) -> None:
    response = page.goto("/cette-page-n-existe-pas/")

    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    expect(page.get_by_role("link", name="Retour à l\u2019accueil")).to_be_visible()

    switch_language(page, label="Langue", language="English", button="Changer")

    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Back to home")).to_be_visible()
    screenshot(page, "7-404-in-english")
