"""Journeys 1-3: sign-up and login; wrong password and lockout; roster import, first login."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveSite, screenshot
from tests.e2e.helpers import log_in, log_out, register, unique_username

pytestmark = pytest.mark.e2e


def test_a_student_registers_lands_on_home_logs_out_and_logs_back_in(
    page: Page, live_site: LiveSite
) -> None:
    username = unique_username("lea")

    register(page, username)
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav).to_contain_text(username)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour, {username} !")

    log_out(page)
    expect(nav.get_by_role("button", name="Se déconnecter")).to_have_count(0)

    log_in(page, username)
    expect(page).to_have_url("/home/")
    expect(nav).to_contain_text(username)
    screenshot(page, "1-register-home-logout-login")
    page.set_viewport_size({"width": 360, "height": 780})
    screenshot(page, "1-home-at-360px")
