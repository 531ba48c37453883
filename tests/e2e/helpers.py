"""Steps shared by the browser journeys."""

from __future__ import annotations

import secrets

from playwright.sync_api import Page, ViewportSize, expect

PASSWORD = "Un-mot-de-passe-solide-2026"

# Every visible form control must have a label (or an aria-label): checked on each page a
# journey fills in, so a field added without one fails the journeys.
UNLABELLED_FIELDS_JS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => el.type !== "hidden" && el.type !== "submit" && el.offsetParent !== null)
  .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label")
                  && !el.getAttribute("aria-labelledby"))
  .map((el) => el.name || el.id || el.outerHTML)
"""


NARROW_SCREEN = ViewportSize(width=360, height=780)
TOO_WIDE_JS = """
() => Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((el) => !el.parentElement.closest(".table-wrap, pre"))
  .slice(0, 5)
  .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""))
"""


def assert_fits_narrow_screen(page: Page) -> None:
    """At 360 px nothing may stick out sideways (tables scroll inside their own box)."""
    page.set_viewport_size(NARROW_SCREEN)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW_SCREEN["width"], (
        f"the page is {width} px wide at 360 px; too wide: {page.evaluate(TOO_WIDE_JS)}"
    )


def unique_username(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


def assert_fields_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED_FIELDS_JS) == []


def register(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/register/")
    assert_fields_labelled(page)
    page.locator("#id_username").fill(username)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.get_by_role("button", name="Créer le compte").click()
    expect(page).to_have_url("/home/")


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    assert_fields_labelled(page)
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Se connecter").click()


def log_out(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url("/accounts/login/")
