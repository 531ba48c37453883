"""The worker's run of a conversion and its compile check (latexocr/conversions/runs.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from latexocr.conversions.runs import conversion_run
from latexocr.conversions.selectors import conversion_can_be_retried
from latexocr.engines import backends
from latexocr.models import Conversion, Version
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import (
    BROKEN_DOCUMENT,
    REPAIRED_DOCUMENT,
    skip_without_tex,
    tex_document,
)
from latexocr.tex.errors import errors_shown
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
from tests.pdfs import pdf_with_text

pytestmark = pytest.mark.django_db


def test_a_gemini_failure_marks_the_conversion_failed_with_a_french_message(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(status=400))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert conversion.error_code == "llm.rejected"
    assert "a refusé la demande" in conversion.error_message
    assert "400" in conversion.error_detail
    # Gemini refused before doing any work: the conversion is not counted, nor offered again.
    assert not conversion.charged
    assert not conversion_can_be_retried(conversion=conversion)
    assert conversion.attempts == 1
    assert conversion.finished_at is not None


def test_an_unexpected_crash_fails_with_a_plain_message(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise RuntimeError("KeyError: 'candidates' at line 42")

    monkeypatch.setattr("latexocr.engines.backends.convert", explode)
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.FAILED
    assert "Erreur interne" in conversion.error_message
    assert "KeyError" not in conversion.error_message
    assert "KeyError" in conversion.error_detail


def test_running_a_conversion_that_is_not_queued_does_nothing(
    gemini_backend: FakeGemini,
) -> None:
    conversion = ConversionFactory.create(status=Conversion.Status.DONE, latex="kept")

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.latex == "kept"
    assert gemini_backend.generate_requests() == []


def test_a_conversion_deleted_while_it_runs_is_left_deleted(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversion = ConversionFactory.create()
    real = backends.convert

    def delete_then_convert(**kwargs: Any) -> Any:
        Conversion.objects.filter(pk=conversion.pk).delete()
        return real(**kwargs)

    monkeypatch.setattr("latexocr.engines.backends.convert", delete_then_convert)

    conversion_run(conversion_id=str(conversion.pk))

    assert not Conversion.objects.filter(pk=conversion.pk).exists()


def test_progress_is_a_sign_of_life(gemini_backend: FakeGemini) -> None:
    conversion = ConversionFactory.create(
        page_count=2, heartbeat_at=None, pdf=pdf_with_text(["page un", "page deux"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.heartbeat_at is not None
    assert conversion.started_at is not None
    assert conversion.heartbeat_at >= conversion.started_at


def versions(conversion: Conversion) -> list[Version]:
    """The conversion's versions, oldest first: what its compile check recorded."""
    return list(conversion.versions.order_by("number"))


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_conversion_that_compiles_stores_its_pdf_and_page_count() -> None:
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.LOCAL, pdf=pdf_with_text(["Exercice 1", "Exercice 2"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)  # no repair round: version 1 compiled
    assert original.compile_status == Version.CompileStatus.COMPILES
    assert original.compiled_pdf is not None
    pdf = bytes(original.compiled_pdf)
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    assert original.compiled_page_count == 2
    assert original.compile_errors == []
    assert original.compile_duration_s is not None and original.compile_duration_s > 0


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_broken_gemini_document_is_repaired_once_and_both_versions_are_kept(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(
        Reply(text=BROKEN_DOCUMENT, input_tokens=100, output_tokens=50),
        Reply(text=REPAIRED_DOCUMENT, input_tokens=30, output_tokens=20),
    )
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.latex == BROKEN_DOCUMENT
    original, repaired = versions(conversion)
    assert repaired.latex == REPAIRED_DOCUMENT
    assert repaired.compile_status == Version.CompileStatus.COMPILES
    assert original.compile_status == Version.CompileStatus.FAILS
    assert original.compile_errors[0]["line"] == 5
    assert "\\mathbb" in errors_shown(original.compile_errors)[0]["message"]
    assert repaired.compile_errors == []
    assert bytes(repaired.compiled_pdf or b"").startswith(b"%PDF")
    assert repaired.compiled_page_count == 1
    assert conversion.gemini_calls == 2
    assert (conversion.input_tokens, conversion.output_tokens) == (130, 70)


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_gemini_failure_during_the_repair_keeps_the_conversion_done_with_its_errors(
    gemini_backend: FakeGemini, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gemini_backend.queue(
        Reply(text=BROKEN_DOCUMENT), *[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS
    )
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.error_code == ""
    assert conversion.latex == BROKEN_DOCUMENT
    (original,) = versions(conversion)  # the round gave no document
    assert original.compile_status == Version.CompileStatus.FAILS
    assert original.compile_errors[0]["line"] == 5
    # Why the round gave nothing is staff's business: the log says it.
    assert "indisponible" in caplog.text
    assert original.compiled_pdf is None
    assert "Undefined control sequence" in original.compile_log_excerpt
    assert conversion.gemini_calls == 1


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_repair_that_does_not_compile_either_keeps_both_versions_and_their_errors(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(text=BROKEN_DOCUMENT), Reply(text=tex_document("Soit $x^2^3$.")))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    original, repaired = versions(conversion)
    assert original.compile_status == repaired.compile_status == Version.CompileStatus.FAILS
    assert conversion.latex == BROKEN_DOCUMENT
    assert "x^2^3" in repaired.latex
    assert original.compile_errors
    assert "Double exposant" in errors_shown(repaired.compile_errors)[0]["message"]
    assert original.compiled_pdf is None and repaired.compiled_pdf is None


def test_without_a_compiler_the_check_is_skipped_and_says_why(
    gemini_backend: FakeGemini,
) -> None:
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "aucun compilateur" in original.compile_skipped_reason
    assert original.compiled_pdf is None
    assert original.compile_duration_s is None
    assert len(gemini_backend.generate_requests()) == 1


def test_a_compiler_missing_from_the_server_skips_the_check(
    gemini_backend: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_COMPILER = "no-such-latex-engine -pdf"
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "no-such-latex-engine" in original.compile_skipped_reason


def test_a_crash_of_the_compile_check_does_not_lose_the_conversion(
    gemini_backend: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr("latexocr.conversions.runs.latex_check", explode)
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert "\\documentclass" in conversion.latex
    (original,) = versions(conversion)
    assert original.compile_status == Version.CompileStatus.SKIPPED
    assert "Erreur interne" in original.compile_skipped_reason
    assert "space" not in original.compile_skipped_reason
