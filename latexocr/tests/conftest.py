from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _latexocr_settings(settings: Any) -> None:
    settings.LATEXOCR_BACKEND = "local"
    settings.LATEXOCR_GEMINI_MODEL = "gemini-3.8-flash"
    settings.LATEXOCR_MAX_UPLOAD_MB = 20
    settings.LATEXOCR_MAX_PAGES = 200
    settings.LATEXOCR_PAGES_PER_CALL = 10
    settings.LATEXOCR_PARALLEL_CALLS = 4
    settings.LATEXOCR_MAX_ATTEMPTS = 3
    settings.LATEXOCR_MAX_RUNS = 3
    settings.LATEXOCR_DAILY_QUOTA = 30
    settings.LATEXOCR_LOCAL_PAGE_TIMEOUT_S = 60.0
    settings.LATEXOCR_LOCAL_PARALLEL_PAGES = 2
    settings.LATEXOCR_CALL_TIMEOUT_S = 10.0
    # No compile check unless a test asks for one (those are marked `tex`).
    settings.LATEXOCR_COMPILER = ""
    settings.LATEXOCR_COMPILE_TIMEOUT_S = 30
    settings.LATEXOCR_COMPILE_MAX_OUTPUT_MB = 20
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def latexmk(settings: Any) -> None:
    """The compile check runs latexmk (tests marked `tex`)."""
    settings.LATEXOCR_COMPILER = "latexmk -pdf"


@pytest.fixture
def gemini_backend(settings: Any, fake_gemini: Any) -> Any:
    """Conversions go to the fake Gemini."""
    settings.LATEXOCR_BACKEND = "gemini"
    return fake_gemini


@pytest.fixture
def pdflatex(settings: Any) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks: Any) -> Any:
    """Run the tasks enqueued at commit (the immediate backend then runs them at once)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
