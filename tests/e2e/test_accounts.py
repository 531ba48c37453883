"""Journeys 1-3: sign-up and login; wrong password and lockout; roster import, first login."""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.tests.roster.builders import FRENCH_HEADER, xlsx_file
from tests.e2e.conftest import LiveSite, screenshot
from tests.e2e.helpers import (
    PASSWORD,
    assert_fields_labelled,
    assert_fits_narrow_screen,
    log_in,
    log_out,
    register,
    unique_username,
)

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
    assert_fits_narrow_screen(page)
    screenshot(page, "1-home-at-360px")


def test_a_wrong_password_says_so_and_repeated_failures_show_the_lockout_page(
    page: Page, live_site: LiveSite
) -> None:
    username = unique_username("sam")
    register(page, username)
    log_out(page)

    log_in(page, username, "pas-le-bon-mot-de-passe")
    expect(page.get_by_role("alert")).to_contain_text("Identifiant ou mot de passe incorrect.")
    screenshot(page, "2-wrong-password")

    try:
        # The lock is per username and per address: every later login from 127.0.0.1 would
        # be refused too, so it is lifted whatever happens.
        lockout_heading = page.get_by_role("heading", name="Trop de tentatives")
        for _attempt in range(10):
            log_in(page, username, "pas-le-bon-mot-de-passe")
            if lockout_heading.count():
                break
        expect(lockout_heading).to_be_visible()
        expect(page.locator(".error-code")).to_have_text("429")

        # Even the right password is refused while the lock lasts.
        log_in(page, username)
        expect(lockout_heading).to_be_visible()
        screenshot(page, "2-lockout")
    finally:
        live_site.manage("axes_reset")


def test_an_admin_imports_an_xlsx_roster_and_a_student_first_logs_in_with_the_birth_date(
    page: Page, browser: Browser, live_site: LiveSite, tmp_path: Path
) -> None:
    number = secrets.randbelow(10**6) + 21_000_000
    # The student information system's export: a title row, French headers, an integer
    # student number, a date cell, and columns the import does not use.
    roster = tmp_path / "export-scolarite.xlsx"
    roster.write_bytes(
        xlsx_file(
            [
                ["Liste des inscrits — L1 Mathématiques"],
                [*FRENCH_HEADER, "Code étape", "Régime"],
                [number, "Martin", "Inès", datetime.date(2005, 3, 14), None, "L1MAT", "FI"],
                [number + 1, "O’Connor", "Séan", datetime.date(2004, 12, 1), None, "L1MAT", "FC"],
            ]
        )
    )

    page.goto("/admin/login/")
    page.locator("#id_username").fill(live_site.admin_username)
    page.locator("#id_password").fill(live_site.admin_password)
    page.locator("input[type=submit]").click()
    page.goto("/admin/accounts/student/")
    page.get_by_role("link", name="Importer des étudiants").click()
    breadcrumbs = page.get_by_role("navigation", name="Fil d'Ariane")
    expect(breadcrumbs.get_by_role("listitem")).to_have_text(
        ["Accueil", "Comptes", "Étudiants", "Importer"]
    )
    expect(breadcrumbs.locator("ol.breadcrumbs")).to_have_css("background-color", "rgb(38, 75, 93)")
    assert_fields_labelled(page)
    screenshot(page, "3-admin-import-form")
    page.get_by_label("Fichier de la liste").set_input_files(roster)
    page.get_by_role("button", name="Prévisualiser").click()
    preview = page.locator(".import-preview")
    expect(preview).to_contain_text(str(number))
    expect(preview).to_contain_text("14/03/2005")
    expect(preview.get_by_role("columnheader", name="Date de naissance")).to_be_visible()
    expect(page.locator(".roster-source")).to_contain_text("F « Code étape », G « Régime »")
    screenshot(page, "3-admin-import-preview")
    assert_fits_narrow_screen(page)
    screenshot(page, "3-admin-import-preview-at-360px")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Confirmer").click()
    expect(page.locator(".messagelist")).to_contain_text("Import terminé : 2 créé(s)")
    screenshot(page, "3-admin-roster-imported")

    student_context = browser.new_context(base_url=live_site.base_url, locale="fr-FR")
    student = student_context.new_page()
    try:
        log_in(student, str(number), "14032005")
        expect(student).to_have_url("/accounts/password_change/")
        expect(student.locator(".notice")).to_contain_text("Première connexion")
        assert_fields_labelled(student)
        assert_fits_narrow_screen(student)
        screenshot(student, "3-student-first-login-at-360px")
        student.set_viewport_size({"width": 1280, "height": 800})
        student.locator("#id_old_password").fill("14032005")
        student.locator("#id_new_password1").fill(PASSWORD)
        student.locator("#id_new_password2").fill(PASSWORD)
        student.get_by_role("button", name="Changer le mot de passe").click()

        expect(student).to_have_url("/home/")
        expect(student.get_by_role("status")).to_contain_text("Votre mot de passe a été changé.")
        expect(student.get_by_role("navigation")).to_contain_text("Inès Martin")
        screenshot(student, "3-student-first-login-home")
    finally:
        student_context.close()

    # The teacher sees who has completed the first login, and who has not yet.
    page.goto(f"/admin/accounts/student/?premiere_connexion=oui&q={number}")
    expect(page.locator("#result_list")).to_contain_text("Martin")
    page.goto(f"/admin/accounts/student/?premiere_connexion=non&q={number + 1}")
    expect(page.locator("#result_list")).to_contain_text("O’Connor")
    expect(page.locator("#result_list")).to_contain_text("jamais")
    screenshot(page, "3-admin-students-not-logged-in")
