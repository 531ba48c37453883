"""Journey 9: the honest states of a first contact, at 360 px and on a desktop screen.

With no engine configured a student reads a plain sentence, cannot submit and is not
charged; a failure recorded in French reads in English after switching; a PDF the local
engine finds nothing in costs nothing and offers no retry; the history turns into cards at 360 px
and the French header holds on one row at 1024 px.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.e2e.conftest import LiveSite, screenshot, start_second_site
from tests.e2e.helpers import NARROW_SCREEN, assert_fits_narrow_screen, register, unique_username
from tests.pdfs import blank_pdf
from tests.servers import free_port

pytestmark = pytest.mark.e2e

OPERATOR_WORDS = re.compile(r"CODEGEN_|GEMINI_|LATEXOCR_|webhook|make\.com", re.IGNORECASE)


def page_on(browser: Browser, site: LiveSite) -> Page:
    context = browser.new_context(
        base_url=site.base_url, viewport={"width": 1280, "height": 860}, locale="fr-FR"
    )
    context.set_default_timeout(20_000)
    return context.new_page()


def assert_no_operator_words(page: Page) -> None:
    text = page.locator("body").inner_text()
    # The line saying where the data goes names the company that receives it (GDPR art. 13,
    # issue 34): a recipient, not operator wording.
    for line in page.locator(".data-destination").all_inner_texts():
        text = text.replace(line, "")
    assert not OPERATOR_WORDS.search(text)


def test_without_engines_a_student_reads_a_plain_sentence_and_cannot_submit(
    browser: Browser, second_site: LiveSite
) -> None:
    start_second_site(
        second_site, CODEGEN_WEBHOOK_URL="", LATEXOCR_BACKEND="gemini", GEMINI_API_KEY=""
    )
    page = page_on(browser, second_site)
    register(page, unique_username("noe"))

    for width in (NARROW_SCREEN["width"], 1280):
        page.set_viewport_size({"width": width, "height": 860})
        page.goto("/codegen/")
        expect(page.locator("#codegen-unavailable")).to_contain_text(
            "La génération de code n’est pas encore disponible sur ce site"
        )
        expect(page.get_by_label("Votre problème")).to_be_disabled()
        expect(page.get_by_role("button", name="Obtenir le code")).to_be_disabled()
        expect(page.locator("#codegen-quota")).to_contain_text("100 questions sur 100")
        assert_no_operator_words(page)
        screenshot(page, f"9-codegen-no-engine-{width}px")

        page.goto("/ocr/")
        expect(page.locator("#latexocr-unavailable")).to_contain_text(
            "La conversion de PDF n’est pas encore disponible sur ce site"
        )
        expect(page.get_by_label("Fichier PDF")).to_be_disabled()
        expect(page.get_by_role("button", name="Convertir", exact=True)).to_be_disabled()
        assert_no_operator_words(page)
        screenshot(page, f"9-latexocr-no-engine-{width}px")
    assert_fits_narrow_screen(page)
    page.context.close()


def test_failures_cost_nothing_offer_a_retry_only_when_useful_and_follow_the_language(
    browser: Browser, second_site: LiveSite
) -> None:
    silent = free_port()  # nothing listens there: the question is never delivered
    start_second_site(
        second_site,
        CODEGEN_WEBHOOK_URL=f"http://127.0.0.1:{silent}/webhook",
        LATEXOCR_BACKEND="local",
    )
    page = page_on(browser, second_site)
    register(page, unique_username("ines"))

    page.goto("/codegen/")
    page.get_by_label("Votre problème").fill("Somme des nombres pairs d’une liste.")
    page.get_by_role("button", name="Obtenir le code").click()
    expect(page.locator("#question-error-text")).to_contain_text("injoignable")
    # Nothing reached the model: not counted, and sending again may work.
    expect(page.locator("#codegen-quota")).to_contain_text("100 questions sur 100")
    expect(page.locator("#question-retry-form")).to_be_visible()
    assert_no_operator_words(page)
    screenshot(page, "9-codegen-unreachable")

    page.goto("/ocr/")
    expect(page.locator("#readable-documents")).to_contain_text("documents imprimés scannés")
    blank = FilePayload(name="vide.pdf", mimeType="application/pdf", buffer=blank_pdf(1))
    page.get_by_label("Fichier PDF").set_input_files(blank)
    page.get_by_role("button", name="Convertir", exact=True).click()
    expect(page.locator(".alert-error")).to_contain_text(
        "Aucun texte n’a été trouvé dans ce PDF", timeout=30_000
    )
    expect(page.get_by_role("button", name="Relancer la conversion")).to_have_count(0)
    page.goto("/ocr/")
    expect(page.locator("main")).to_contain_text("30 conversions restantes")

    # The same failures, read in English after switching.
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()
    page.goto("/ocr/history/")
    expect(page.locator("main")).to_contain_text("No text was found in this PDF")
    page.goto("/codegen/history/")
    expect(page.locator("main")).to_contain_text("cannot be reached")
    expect(page.locator("main")).not_to_contain_text("injoignable")
    screenshot(page, "9-codegen-history-in-english")

    page.set_viewport_size(NARROW_SCREEN)
    page.goto("/ocr/history/")
    row = page.locator("table.table-cards tbody tr").first
    expect(row.get_by_role("button", name="Delete")).to_be_visible()
    expect(row.locator("time")).to_be_visible()
    expect(row.locator("time")).to_have_text(
        re.compile(r"^\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d$")
    )
    assert_fits_narrow_screen(page)
    screenshot(page, "9-latexocr-history-cards-at-360px")
    page.context.close()


def test_the_french_header_holds_on_one_row_from_1024_px(page: Page, live_site: LiveSite) -> None:
    register(page, unique_username("marie-claire-dupont-lefevre"))
    for width in (1024, 1280, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/codegen/")
        links = page.get_by_role("navigation").get_by_role("link")
        tops = {
            round(box["y"])
            for box in (links.nth(i).bounding_box() for i in range(links.count()))
            if box
        }
        logout = page.get_by_role("button", name="Se déconnecter").bounding_box()
        header = page.locator(".site-header").bounding_box()
        assert header and logout
        assert header["height"] < 70, f"{width} px: the header takes {header['height']} px"
        assert max(tops) - min(tops) < 10
    screenshot(page, "9-header-1024px")
