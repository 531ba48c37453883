"""The uploaded PDF, each version's files, the addresses before versions
(latexocr/views/downloads.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from latexocr.conversions.storage import pdf_read
from latexocr.models import Version
from latexocr.tests.factories import ConversionFactory, with_versions
from latexocr.tests.views.builders import (
    FAKE_PDF,
    LATEX,
    compiled_conversion,
    repaired_conversion,
    reviewed,
)

pytestmark = pytest.mark.django_db


def test_the_download_is_an_attachment_with_a_name_we_build(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        original_filename='../../etc/pass"wd é.pdf',
    )
    with_versions(conversion)

    # The address before versions leads to version 1's, named as a version.
    response = logged_in.get(f"/ocr/{conversion.pk}/download/", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-tex")
    disposition = response["Content-Disposition"]
    assert disposition == f'attachment; filename="passwd-e-{str(conversion.pk)[:8]}-v1.tex"'
    assert response.content == b"\\documentclass{article}"


def test_a_conversion_not_done_has_nothing_to_download(logged_in: Client, user: User) -> None:
    conversion = ConversionFactory.create(owner=user, status="running")

    assert logged_in.get(f"/ocr/{conversion.pk}/download/").status_code == 404


def test_the_pdf_is_served_inline_to_its_owner_with_its_content_type(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user, original_filename="TD 3.pdf")

    response = logged_in.get(f"/ocr/{conversion.pk}/pdf/", follow=True)

    # The address before versions moved for good to the current version's.
    assert response.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/pdf/", 301)]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'inline; filename="td-3-{str(conversion.pk)[:8]}-v1.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == FAKE_PDF


def test_the_pdf_may_be_framed_by_the_site_only_and_other_pages_by_nobody(
    logged_in: Client, user: User
) -> None:
    conversion = compiled_conversion(user)

    pdf = logged_in.get(f"/ocr/{conversion.pk}/pdf/", follow=True)
    page = logged_in.get(f"/ocr/{conversion.pk}/")

    assert pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf["Content-Security-Policy"]
    assert "object-src 'self'" in pdf["Content-Security-Policy"]
    assert "script-src" not in pdf["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-src 'self'" in page["Content-Security-Policy"]


def test_the_pdf_download_is_an_attachment(logged_in: Client, user: User) -> None:
    conversion = compiled_conversion(user)

    response = logged_in.get(f"/ocr/{conversion.pk}/pdf/download/", follow=True)

    assert response.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/pdf/download/", 301)]
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="td1-')
    assert response.content == FAKE_PDF


def test_the_pdf_addresses_before_versions_lead_to_the_current_versions_pdf(
    logged_in: Client, user: User
) -> None:
    conversion = repaired_conversion(user)

    for suffix in ("pdf/", "pdf/download/"):
        response = logged_in.get(f"/ocr/{conversion.pk}/{suffix}")
        assert response.status_code == 301
        assert response["Location"] == f"/ocr/{conversion.pk}/versions/2/{suffix}"


def test_each_latex_version_downloads_under_its_own_name(logged_in: Client, user: User) -> None:
    conversion = repaired_conversion(user)
    prefix = f"td1-{str(conversion.pk)[:8]}"

    original = logged_in.get(f"/ocr/{conversion.pk}/download/", follow=True)
    repaired = logged_in.get(f"/ocr/{conversion.pk}/download/repaired/", follow=True)

    # The addresses before versions moved for good to versions 1 and 2, named as versions.
    assert original.redirect_chain == [(f"/ocr/{conversion.pk}/versions/1/tex/download/", 301)]
    assert repaired.redirect_chain == [(f"/ocr/{conversion.pk}/versions/2/tex/download/", 301)]
    assert original.content == b"\\documentclass{article} % original"
    assert original["Content-Disposition"] == f'attachment; filename="{prefix}-v1.tex"'
    assert repaired.content == b"\\documentclass{article} % repaired"
    assert repaired["Content-Disposition"] == f'attachment; filename="{prefix}-v2.tex"'
    assert repaired["Content-Type"].startswith("application/x-tex")


def test_without_a_compiled_pdf_or_a_repair_there_is_nothing_to_fetch(
    logged_in: Client, user: User
) -> None:
    conversion = ConversionFactory.create(
        owner=user, status="done", latex="x", compile_status=Version.CompileStatus.FAILS
    )

    for suffix in ("pdf/", "pdf/download/", "download/repaired/"):
        assert logged_in.get(f"/ocr/{conversion.pk}/{suffix}", follow=True).status_code == 404


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/download/", "download/repaired/", "download/"])
def test_another_users_pdf_and_repaired_latex_are_404(
    logged_in: Client, other_user: User, suffix: str
) -> None:
    conversion = repaired_conversion(other_user)

    response = logged_in.get(f"/ocr/{conversion.pk}/{suffix}")

    assert response.status_code == 404
    assert FAKE_PDF not in response.content


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/download/", "download/repaired/"])
def test_the_pdf_and_repaired_latex_need_a_login(client: Client, user: User, suffix: str) -> None:
    conversion = repaired_conversion(user)

    response = client.get(f"/ocr/{conversion.pk}/{suffix}")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_uploaded_pdf_is_served_inline_framed_by_the_site_only(
    logged_in: Client, user: User
) -> None:
    conversion = reviewed(user)

    response = logged_in.get(f"/ocr/{conversion.pk}/source.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response.getvalue() == pdf_read(conversion_id=conversion.pk)
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_every_version_opens_and_downloads_as_tex_and_pdf(logged_in: Client, user: User) -> None:
    conversion = reviewed(user)
    base = f"/ocr/{conversion.pk}/versions/1"

    opened = logged_in.get(f"{base}/tex/")
    downloaded = logged_in.get(f"{base}/tex/download/")
    pdf = logged_in.get(f"{base}/pdf/")
    pdf_downloaded = logged_in.get(f"{base}/pdf/download/")

    assert opened["Content-Type"] == "text/plain; charset=utf-8"
    assert opened.content.decode() == LATEX
    assert (
        downloaded["Content-Disposition"]
        == f'attachment; filename="td1-{str(conversion.pk)[:8]}-v1.tex"'
    )
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == FAKE_PDF
    assert pdf["Content-Disposition"].startswith("inline;")
    assert pdf_downloaded["Content-Disposition"].startswith("attachment;")


def test_a_version_without_a_pdf_has_none_to_serve(logged_in: Client, user: User) -> None:
    conversion = reviewed(user, compile_status="fails", compiled_pdf=None)

    assert logged_in.get(f"/ocr/{conversion.pk}/versions/1/pdf/").status_code == 404
    assert logged_in.get(f"/ocr/{conversion.pk}/versions/9/tex/").status_code == 404
