"""The worker's writes on versions: the check's versions, compiles, repair rounds
(latexocr/review/runs.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone, translation

from accounts.models import User
from latexocr.conversions.runs import conversion_run
from latexocr.models import Conversion, RepairRequest, Version
from latexocr.review.runs import version_compile
from latexocr.review.services import (
    repair_request,
    version_edit,
)
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.review.builders import GOOD_DOCUMENT, done_conversion, failing_conversion
from latexocr.tests.texlive import (
    BROKEN_DOCUMENT,
    REPAIRED_DOCUMENT,
    skip_without_tex,
    tex_document,
)
from latexocr.tex.compiler import CompileResult, skipped_result
from latexocr.tex.errors import errors_shown
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
from tests.pdfs import pdf_with_text

pytestmark = pytest.mark.django_db


def test_a_finished_conversion_gets_its_transcription_as_version_1() -> None:
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.LOCAL, pdf=pdf_with_text(["Exercice 1"])
    )

    conversion_run(conversion_id=str(conversion.pk))

    versions = list(conversion.versions.all())
    assert [(v.number, v.origin) for v in versions] == [(1, Version.Origin.ORIGINAL)]
    conversion.refresh_from_db()
    assert versions[0].latex == conversion.latex
    assert versions[0].compile_status == Version.CompileStatus.SKIPPED


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_the_repair_round_s_answer_is_version_2_with_its_own_pdf(
    gemini_backend: FakeGemini,
) -> None:
    gemini_backend.queue(Reply(text=BROKEN_DOCUMENT), Reply(text=REPAIRED_DOCUMENT))
    conversion = ConversionFactory.create()

    conversion_run(conversion_id=str(conversion.pk))

    first, second = conversion.versions.order_by("number")
    assert (first.origin, first.compile_status) == ("original", "fails")
    assert first.compile_errors[0]["line"] == 5
    assert first.compiled_pdf is None
    assert (second.number, second.origin, second.compile_status) == (2, "repaired", "compiles")
    assert second.latex == REPAIRED_DOCUMENT
    assert bytes(second.compiled_pdf or b"").startswith(b"%PDF")


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_an_edited_version_is_compiled_in_the_background_with_its_errors_and_lines(
    user: User, run_on_commit: Any
) -> None:
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(conversion=conversion, user=user, latex=BROKEN_DOCUMENT)

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.FAILS
    assert version.compile_errors[0]["line"] == 5
    with run_on_commit():
        fixed = version_edit(conversion=conversion, user=user, latex=REPAIRED_DOCUMENT)
    fixed.refresh_from_db()
    assert fixed.compile_status == Version.CompileStatus.COMPILES
    assert bytes(fixed.compiled_pdf or b"").startswith(b"%PDF")
    assert fixed.compiled_page_count == 1


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        ("\\input{/etc/passwd}", "/etc/passwd"),
        ("\\def\\loop{\\loop}\\loop", "Compilation arrêtée"),
    ],
)
def test_an_edit_is_contained_like_the_compile_check(
    user: User, settings: Any, run_on_commit: Any, body: str, message_part: str
) -> None:
    settings.LATEXOCR_COMPILE_TIMEOUT_S = 3
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(conversion=conversion, user=user, latex=tex_document(body))

    version.refresh_from_db()
    messages = " ".join(error["message"] for error in errors_shown(version.compile_errors))
    assert version.compile_status == Version.CompileStatus.FAILS
    assert message_part in messages


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_an_edit_with_write18_runs_no_command(
    user: User, run_on_commit: Any, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    conversion = done_conversion(user)

    with run_on_commit():
        version = version_edit(
            conversion=conversion,
            user=user,
            latex=tex_document(f"\\immediate\\write18{{touch {marker}}}\nBonjour"),
        )

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.COMPILES
    assert not marker.exists()


def test_compiling_a_version_that_is_not_queued_does_nothing(user: User) -> None:
    conversion = done_conversion(user)
    version = conversion.versions.get()

    version_compile(version_id=version.pk)

    version.refresh_from_db()
    assert version.compile_status == Version.CompileStatus.SKIPPED


@pytest.mark.usefixtures("pdflatex")
@pytest.mark.tex
@skip_without_tex
def test_a_repair_on_demand_gives_a_new_compiled_version(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any
) -> None:
    conversion = failing_conversion(user)
    gemini_backend.queue(Reply(text=REPAIRED_DOCUMENT))

    with run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    assert (request.status, request.result_number) == (RepairRequest.Status.DONE, 2)
    repaired = conversion.versions.get(number=2)
    assert (repaired.origin, repaired.latex) == ("repaired", REPAIRED_DOCUMENT)
    assert repaired.compile_status == Version.CompileStatus.COMPILES
    conversion.refresh_from_db()
    assert conversion.gemini_calls == 1
    assert "\\mathbb" in str(gemini_backend.generate_requests()[0].body)


def test_a_claimed_compile_records_when_it_started(user: User) -> None:
    version = Version.objects.create(
        conversion=done_conversion(user),
        number=2,
        origin=Version.Origin.EDITED,
        latex=GOOD_DOCUMENT,
        compile_status=Version.CompileStatus.QUEUED,
    )
    before = timezone.now()

    version_compile(version_id=version.pk)

    version.refresh_from_db()
    assert version.compile_started_at is not None
    assert version.compile_started_at >= before


def test_a_repair_on_demand_starts_from_the_stored_errors_without_compiling_again(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversion = failing_conversion(user)
    compiled: list[str] = []

    def compile_recorded(source: str) -> CompileResult:
        compiled.append(source)
        return skipped_result("no engine in this test")

    monkeypatch.setattr("latexocr.tex.checking.compile_with_limits", compile_recorded)
    gemini_backend.queue(Reply(text=REPAIRED_DOCUMENT))

    with run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    # Only the model's answer was compiled; the stored errors went in the prompt.
    assert compiled == [REPAIRED_DOCUMENT]
    assert "\\mathbb" in str(gemini_backend.generate_requests()[0].body)
    assert (request.status, request.result_number) == (RepairRequest.Status.DONE, 2)


def test_a_failed_repair_is_stored_as_a_code_and_worded_in_the_readers_language(
    user: User, gemini_backend: FakeGemini, run_on_commit: Any, settings: Any
) -> None:
    conversion = failing_conversion(user)
    gemini_backend.queue(*[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS)

    with translation.override("fr"), run_on_commit():
        request = repair_request(conversion=conversion, user=user)

    request.refresh_from_db()
    assert request.status == RepairRequest.Status.FAILED
    assert request.error_code == "latexocr.repair.unavailable"
    assert request.error_detail  # the upstream error, for staff
    with translation.override("fr"):
        assert request.error_message == "le service d’IA est indisponible pour le moment"
    with translation.override("en"):
        assert "indisponible" not in request.error_message
