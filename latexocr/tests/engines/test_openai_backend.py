"""LATEXOCR_BACKEND=openai: pages rendered to images, sent in ranges to a self-hosted vision
model, split, merged, checked and repaired exactly as the Gemini path, against the loopback
fake through the real `openai` SDK."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfWriter

from latexocr.conversions.runs import conversion_run
from latexocr.engines import backends
from latexocr.engines.backends import ConversionFailed
from latexocr.models import Conversion
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import BROKEN_DOCUMENT, REPAIRED_DOCUMENT, skip_without_tex
from latexocr.tex.checking import latex_check
from platform_site.llm.tests.fakes.openai_compatible import FakeOpenAI, Reply, image_size


def pdf_of_widths(widths: list[int]) -> bytes:
    """A PDF whose page n is widths[n] points wide: its image names the page it came from."""
    writer = PdfWriter()
    for width in widths:
        writer.add_blank_page(width=width, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def widths_of(n: int) -> list[int]:
    return [72 + 72 * index for index in range(n)]  # 1, 2, 3... inches


def pixel_widths(latex: str) -> list[int]:
    return [int(w) for w in re.findall(r"\\section\*\{Image \d+/\d+: (\d+)x\d+\}", latex)]


def convert(pdf: bytes, pages: int, progress: list[int] | None = None) -> backends.ConversionResult:
    return backends.convert_with_openai(
        pdf=pdf,
        page_count=pages,
        model="fake-vision",
        on_progress=(progress if progress is not None else []).append,
    )


@pytest.fixture(autouse=True)
def _openai_settings(settings: Any, fake_openai: FakeOpenAI) -> None:
    settings.LATEXOCR_OPENAI_IMAGE_DPI = 100
    settings.LATEXOCR_OPENAI_IMAGE_FORMAT = "png"
    settings.LATEXOCR_OPENAI_PAGES_PER_CALL = 4
    settings.LATEXOCR_OPENAI_MAX_TOKENS = 4096


def test_pages_go_as_images_in_ranges_and_come_back_merged_in_page_order(
    fake_openai: FakeOpenAI,
) -> None:
    progress: list[int] = []

    result = convert(pdf_of_widths(widths_of(10)), 10, progress)

    requests = fake_openai.chat_requests()
    assert sorted(len(r.images) for r in requests) == [2, 4, 4]
    # 100 dpi: a page n inches wide is 100 n pixels wide.
    assert pixel_widths(result.latex) == [100 * n for n in range(1, 11)]
    assert result.latex.count("\\documentclass") == 1
    assert result.gemini_calls == 3
    assert result.model == "fake-vision"
    assert result.input_tokens is not None and result.output_tokens
    assert sorted(progress)[-1] == 10
    first = min(requests, key=lambda r: image_size(r.images[0])[0])
    assert "images jointes" in first.text
    assert "les pages 1 à 4 d'un document de 10 pages" in first.text
    assert first.body["model"] == "fake-vision"
    assert first.body["max_tokens"] == 4096


def test_jpeg_images_when_asked(fake_openai: FakeOpenAI, settings: Any) -> None:
    settings.LATEXOCR_OPENAI_IMAGE_FORMAT = "jpeg"

    convert(pdf_of_widths([144]), 1)

    [request] = fake_openai.chat_requests()
    url = request.messages[0]["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert image_size(request.images[0]) == (200, 278)


def test_a_range_cut_by_max_tokens_is_split_in_two_and_redone(fake_openai: FakeOpenAI) -> None:
    fake_openai.max_images_per_answer = 2

    result = convert(pdf_of_widths(widths_of(4)), 4)

    assert [len(r.images) for r in fake_openai.chat_requests()] == [4, 2, 2]
    assert pixel_widths(result.latex) == [100, 200, 300, 400]


def test_a_single_page_cut_by_max_tokens_fails_instead_of_being_truncated(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.queue(Reply(text="\\begin{document} x", finish_reason="length"))

    with pytest.raises(ConversionFailed) as raised:
        convert(pdf_of_widths([72]), 1)

    assert re.search("page 1 donne une transcription trop longue", raised.value.failure.message)


def test_a_429_is_retried_and_the_conversion_succeeds(fake_openai: FakeOpenAI) -> None:
    fake_openai.queue(Reply.rate_limited("0"))

    result = convert(pdf_of_widths([72, 144]), 2)

    assert pixel_widths(result.latex) == [100, 200]
    assert len(fake_openai.chat_requests()) == 2


def test_503_on_every_attempt_says_the_server_is_unavailable(
    fake_openai: FakeOpenAI, settings: Any
) -> None:
    fake_openai.queue(*[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS)

    with pytest.raises(ConversionFailed) as raised:
        convert(pdf_of_widths([72]), 1)

    assert re.search(
        r"Pages 1 : Le service qui rédige les réponses est injoignable",
        raised.value.failure.message,
    )
    assert "503" in raised.value.failure.detail
    assert not raised.value.failure.charged
    assert len(fake_openai.chat_requests()) == settings.LATEXOCR_MAX_ATTEMPTS


def test_an_unknown_model_fails_at_once_without_naming_settings(fake_openai: FakeOpenAI) -> None:
    with pytest.raises(ConversionFailed) as failed:
        backends.convert_with_openai(
            pdf=pdf_of_widths([72]), page_count=1, model="absent", on_progress=lambda _: None
        )

    assert "refusé" in failed.value.failure.message
    assert "OPENAI" not in failed.value.failure.message
    assert len(fake_openai.chat_requests()) == 1


def test_an_empty_answer_fails_instead_of_giving_an_empty_document(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.queue(Reply(text="  "))

    with pytest.raises(ConversionFailed) as raised:
        convert(pdf_of_widths([72]), 1)

    assert re.search("réponse vide pour les pages 1", raised.value.failure.message)


@pytest.mark.django_db
def test_a_conversion_on_the_openai_backend_runs_with_its_model_and_no_gemini(
    settings: Any, fake_openai: FakeOpenAI, fake_gemini: Any
) -> None:
    settings.LATEXOCR_BACKEND = "openai"
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.OPENAI, model="fake-vision", pdf=pdf_of_widths([72, 144])
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert pixel_widths(conversion.latex) == [100, 200]
    assert conversion.model == "fake-vision"
    assert fake_gemini.generate_requests() == []


@pytest.mark.tex
@skip_without_tex
@pytest.mark.django_db
def test_a_broken_document_is_repaired_once_through_the_same_self_hosted_model(
    settings: Any, fake_openai: FakeOpenAI, fake_gemini: Any
) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"
    fake_openai.queue(
        Reply(text=BROKEN_DOCUMENT, prompt_tokens=100, completion_tokens=50),
        Reply(text=f"```latex\n{REPAIRED_DOCUMENT}```\n", prompt_tokens=30, completion_tokens=20),
    )
    conversion = ConversionFactory.create(
        backend=Conversion.Backend.OPENAI,
        model="fake-vision",
        pdf=pdf_of_widths([72]),
        page_count=1,
    )

    conversion_run(conversion_id=str(conversion.pk))

    conversion.refresh_from_db()
    assert conversion.status == Conversion.Status.DONE
    assert conversion.latex == BROKEN_DOCUMENT
    repaired = conversion.versions.get(number=2)
    assert repaired.latex == REPAIRED_DOCUMENT
    assert repaired.compile_status == "compiles"
    assert conversion.gemini_calls == 2
    assert (conversion.input_tokens, conversion.output_tokens) == (130, 70)
    repair = fake_openai.chat_requests()[1]
    assert repair.body["model"] == "fake-vision"
    assert repair.images == []
    assert "\\mathbb" in repair.text
    assert fake_gemini.generate_requests() == []


@pytest.mark.tex
@skip_without_tex
def test_a_model_server_failure_during_the_repair_is_said_in_its_own_words(
    settings: Any, fake_openai: FakeOpenAI
) -> None:
    settings.LATEXOCR_COMPILER = "pdflatex"
    fake_openai.queue(*[Reply(status=503)] * settings.LATEXOCR_MAX_ATTEMPTS)

    check = latex_check(latex=BROKEN_DOCUMENT, repair=True, backend="openai")

    assert check.repaired is None
    assert check.repair_error_message == "le service d’IA est indisponible pour le moment"


@pytest.mark.django_db
def test_on_a_self_hosted_site_the_repair_on_demand_needs_no_gemini_key(
    settings: Any, fake_openai: FakeOpenAI, client: Any, user: Any
) -> None:
    from latexocr.tests.views.builders import reviewed
    from latexocr.tex.checking import repair_configured
    from platform_site.llm.registry import repair_backend_name as repair_backend

    settings.GEMINI_API_KEY = ""
    settings.LATEXOCR_BACKEND = "openai"
    client.force_login(user)
    conversion = reviewed(user, compile_status="fails", compiled_pdf=None)

    page = client.get(f"/ocr/{conversion.pk}/").content.decode()
    response = client.post(f"/ocr/{conversion.pk}/repair/")

    assert repair_backend(conversion_backend="gemini") == "openai"
    assert repair_configured(conversion_backend="gemini")
    assert 'disabled aria-describedby="repair-help"' not in page
    assert "Demander une correction au modèle</button>" in page
    assert "Gemini" not in page
    assert response.status_code == 302
    settings.LATEXOCR_BACKEND = "gemini"
    assert repair_backend(conversion_backend="gemini") == "gemini"
    assert not repair_configured(conversion_backend="gemini")
    assert repair_backend(conversion_backend="openai") == "openai"
