"""The CSRF failure page as a student meets it: a login form left open until its cookie is gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot

pytestmark = pytest.mark.e2e


def test_a_form_sent_without_its_csrf_cookie_shows_the_expired_form_page(
    page: Page, live_site: LiveSite
) -> None:
    page.goto("/accounts/login/")
    page.context.clear_cookies()
    page.locator("#id_username").fill("quelqu-un")
    page.locator("#id_password").fill("peu-importe")

    with page.expect_response("**/accounts/login/") as response_info:
        page.get_by_role("button", name="Se connecter").click()

    assert response_info.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Formulaire expiré")
    expect(page.locator(".site-footer")).to_be_visible()
    screenshot(page, "error-csrf-expired-form")
