"""No page a student can see speaks the operator's language, in any state of the site.

Every student page is rendered in both languages, with each backend configured or not, and
with a failed question and a failed conversion for every failure code the site declares.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

import latexocr.conversions.runs
import latexocr.conversions.services
import latexocr.review.runs
import latexocr.review.services
import latexocr.tex.checking
import platform_site.llm.errors
from accounts.models import User
from codegen.tests.factories import AnsweredQuestionFactory, QuestionFactory
from latexocr.tests.factories import ConversionFactory
from platform_site.core.failures import failure_kinds

pytestmark = pytest.mark.django_db

# The wrappers and services whose failure codes are declared at import.
DECLARING_MODULES = (
    platform_site.llm.errors,
    latexocr.conversions.runs,
    latexocr.conversions.services,
    # The repair rounds' failures, shown to the student on the result page.
    latexocr.review.runs,
    latexocr.review.services,
    latexocr.tex.checking,
)

OPERATOR_WORDING = re.compile(
    r"\b(?:CODEGEN|GEMINI|LATEXOCR|OPENAI|DJANGO)_[A-Z_]+"  # setting names
    r"|webhook|make\.com|traceback|administrateur doit|administrator must"
    r"|compilateur LaTeX configuré|no LaTeX compiler",
    re.IGNORECASE,
)

CODEGEN_STATES: list[dict[str, Any]] = [
    {"CODEGEN_BACKEND": "webhook", "CODEGEN_WEBHOOK_URL": ""},
    {"CODEGEN_BACKEND": "webhook", "CODEGEN_WEBHOOK_URL": "http://127.0.0.1:9/webhook"},
    {"CODEGEN_BACKEND": "gemini", "GEMINI_API_KEY": ""},
    {"CODEGEN_BACKEND": "openai", "OPENAI_BASE_URL": "", "CODEGEN_OPENAI_MODEL": ""},
]
LATEXOCR_STATES: list[dict[str, Any]] = [
    {"LATEXOCR_BACKEND": "local"},
    {"LATEXOCR_BACKEND": "gemini", "GEMINI_API_KEY": ""},
    {"LATEXOCR_BACKEND": "openai", "OPENAI_BASE_URL": "", "LATEXOCR_OPENAI_MODEL": ""},
]


def student_pages(user: User) -> list[str]:
    """One question and one conversion failed with each declared code, plus the other states."""
    assert DECLARING_MODULES
    codes = [kind.code for kind in failure_kinds() if not kind.code.startswith("tests.")]
    pages = ["/home/", "/codegen/", "/codegen/history/", "/ocr/", "/ocr/history/"]
    AnsweredQuestionFactory.create(user=user)
    QuestionFactory.create(user=user)  # pending
    for code in codes:
        question = QuestionFactory.create(
            user=user, status="failed", error_code=code, error_detail="CODEGEN_WEBHOOK_URL 410"
        )
        conversion = ConversionFactory.create(
            owner=user, status="failed", error_code=code, error_detail="GEMINI_API_KEY"
        )
        pages += [
            f"/codegen/{question.pk}/",
            f"/ocr/{conversion.pk}/",
            f"/ocr/{conversion.pk}/status/",
        ]
    skipped = ConversionFactory.create(
        owner=user,
        status="done",
        latex="\\documentclass{article}",
        compile_status="skipped",
        compile_skipped_reason="Vérification désactivée : aucun compilateur LaTeX configuré.",
        repair_error="Gemini n’est pas configuré sur ce serveur",
    )
    queued = ConversionFactory.create(owner=user)
    return [*pages, f"/ocr/{skipped.pk}/", f"/ocr/{skipped.pk}/status/", f"/ocr/{queued.pk}/"]


# Each state of codegen beside one of latexocr (every state of each tool appears once).
STATES = [
    {**codegen, **LATEXOCR_STATES[index % len(LATEXOCR_STATES)]}
    for index, codegen in enumerate(CODEGEN_STATES)
]


@pytest.mark.parametrize(
    "state", STATES, ids=lambda s: f"{s['CODEGEN_BACKEND']}-{s['LATEXOCR_BACKEND']}"
)
def test_no_student_page_shows_operator_wording_in_either_language(
    logged_in: Client, user: User, settings: Any, state: dict[str, Any]
) -> None:
    for name, value in state.items():
        setattr(settings, name, value)
    pages = student_pages(user)
    found: list[str] = []

    for language in ("fr", "en"):
        logged_in.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        with translation.override(settings.LANGUAGE_CODE):
            for path in pages:
                response = logged_in.get(path)
                assert response.status_code == 200, path
                # A JSON error_code ("llm.rate_limited") is an identifier for scripts, not wording.
                text = re.sub(r'"error_code": "[^"]*"', "", response.content.decode())
                # The line saying where the data goes must name the company that receives it
                # (GDPR art. 13, issue 34): a recipient, not operator wording.
                text = re.sub(r'<p class="[^"]*data-destination">.*?</p>', "", text, flags=re.S)
                for match in OPERATOR_WORDING.finditer(text):
                    found.append(f"{language} {path}: {match[0]}")

    assert found == []


def test_the_check_itself_catches_operator_wording(logged_in: Client, user: User) -> None:
    user.is_staff = True
    user.save(update_fields=["is_staff"])

    page = logged_in.get("/codegen/").content.decode()

    assert OPERATOR_WORDING.search(page)
