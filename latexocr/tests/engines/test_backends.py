from __future__ import annotations

import re
from typing import Any

import pytest

from latexocr.engines import backends, tesseract
from latexocr.engines.backends import ConversionFailed
from latexocr.tests.engines.test_tesseract import needs_tesseract
from platform_site.llm.tests.fakes.gemini import FakeGemini, Reply
from tests.pdfs import HANDWRITTEN_FIXTURE, blank_pdf, pdf_with_text

DAILY_QUOTA = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"


def numbered_pdf(pages: int) -> bytes:
    return pdf_with_text([f"Contenu de la page {n}" for n in range(1, pages + 1)])


def convert(pdf: bytes, pages: int, progress: list[int] | None = None) -> backends.ConversionResult:
    return backends.convert_with_gemini(
        pdf=pdf,
        page_count=pages,
        model="gemini-3.8-flash",
        on_progress=(progress if progress is not None else []).append,
    )


def pages_in_order(latex: str) -> list[int]:
    return [int(n) for n in re.findall(r"Contenu de la page (\d+)", latex)]


def test_a_short_pdf_is_converted_in_one_call_with_the_whole_pdf(
    fake_gemini: FakeGemini,
) -> None:
    pdf = numbered_pdf(3)

    result = convert(pdf, 3)

    [request] = fake_gemini.generate_requests()
    assert request.pdf_pages == 3
    assert pages_in_order(result.latex) == [1, 2, 3]
    assert result.gemini_calls == 1
    assert result.model == "gemini-3.8-flash"
    assert result.input_tokens and result.output_tokens
    prompt = request.body["contents"][0]["parts"][1]["text"]
    assert "\\documentclass" in prompt and "en français" in prompt
    assert request.body["generation_config"]["thinking_config"]["thinking_level"] == "LOW"


def test_a_30_page_pdf_is_converted_in_3_ranges_and_merged_in_page_order(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_PAGES_PER_CALL = 10
    progress: list[int] = []

    result = convert(numbered_pdf(30), 30, progress)

    requests = fake_gemini.generate_requests()
    assert sorted(r.pdf_pages or 0 for r in requests) == [10, 10, 10]
    assert pages_in_order(result.latex) == list(range(1, 31))
    assert result.latex.count("\\documentclass") == 1
    assert result.latex.count("\\begin{document}") == 1
    assert result.gemini_calls == 3
    assert progress == [10, 20, 30]
    prompts = sorted(r.body["contents"][0]["parts"][1]["text"] for r in requests)
    assert any("les pages 11 à 20 d'un document de 30 pages" in p for p in prompts)


def test_ranges_run_in_parallel_up_to_the_limit(fake_gemini: FakeGemini, settings: Any) -> None:
    settings.LATEXOCR_PAGES_PER_CALL = 1
    settings.LATEXOCR_MAX_PAGES_PER_CALL = 1
    settings.LATEXOCR_PARALLEL_CALLS = 4
    # Long enough for the four calls to overlap, short enough not to wait for nothing.
    fake_gemini.queue(*[Reply(delay_s=0.3)] * 6)

    result = convert(numbered_pdf(6), 6)

    assert fake_gemini.most_generating_at_once == 4
    assert pages_in_order(result.latex) == list(range(1, 7))


def test_a_range_cut_by_max_tokens_is_split_in_two_and_redone(fake_gemini: FakeGemini) -> None:
    fake_gemini.max_pages_per_answer = 5

    result = convert(numbered_pdf(10), 10)

    calls = [r.pdf_pages for r in fake_gemini.generate_requests()]
    assert calls[0] == 10
    assert sorted(c or 0 for c in calls[1:]) == [5, 5]
    assert pages_in_order(result.latex) == list(range(1, 11))
    assert result.gemini_calls == 3


def test_a_single_page_cut_by_max_tokens_fails_instead_of_being_truncated(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.queue(Reply(finish_reason="MAX_TOKENS"))

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert re.search("La page 1 donne une transcription trop longue", raised.value.failure.message)


def test_a_429_is_retried_and_the_conversion_succeeds(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(status=429, retry_delay="0.01s"))

    result = convert(numbered_pdf(2), 2)

    assert len(fake_gemini.generate_requests()) == 2
    assert pages_in_order(result.latex) == [1, 2]


def test_a_permanent_400_fails_at_once_with_a_french_message(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(*[Reply(status=400)] * 3)

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(2), 2)

    assert re.search("a refusé la demande", raised.value.failure.message)

    assert len(fake_gemini.generate_requests()) == 1


def test_a_daily_quota_says_to_come_back_tomorrow(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(status=429, quota_id=DAILY_QUOTA))

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert re.search("quota quotidien", raised.value.failure.message)


def test_503_on_every_attempt_says_gemini_is_unavailable(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_MAX_ATTEMPTS = 3
    fake_gemini.queue(*[Reply(status=503)] * 3)

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert re.search(
        "Pages 1 : Le service qui rédige les réponses est injoignable", raised.value.failure.message
    )
    assert not raised.value.failure.charged

    assert len(fake_gemini.generate_requests()) == 3


def test_a_blocked_answer_names_the_filter(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply(text="", finish_reason="RECITATION"))

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert re.search("refusé de répondre", raised.value.failure.message)
    assert "RECITATION" in raised.value.failure.detail


def test_an_empty_answer_fails_instead_of_giving_an_empty_document(
    fake_gemini: FakeGemini,
) -> None:
    fake_gemini.queue(Reply(text="   "))

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert re.search("réponse vide", raised.value.failure.message)


def test_a_fenced_answer_comes_back_without_fences(fake_gemini: FakeGemini) -> None:
    fake_gemini.fenced = True

    result = convert(numbered_pdf(2), 2)

    assert "```" not in result.latex
    assert result.latex.startswith("\\documentclass")


def test_without_a_key_the_gemini_backend_says_it_is_not_configured(settings: Any) -> None:
    settings.GEMINI_API_KEY = ""

    with pytest.raises(ConversionFailed) as raised:
        convert(blank_pdf(1), 1)

    assert re.search("pas disponible sur ce site", raised.value.failure.message)


def test_the_real_handwritten_fixture_goes_through_gemini(fake_gemini: FakeGemini) -> None:
    pdf = HANDWRITTEN_FIXTURE.read_bytes()

    result = convert(pdf, 1)

    [request] = fake_gemini.generate_requests()
    assert request.pdf_pages == 1
    assert result.latex.startswith("\\documentclass")
    assert result.latex.rstrip().endswith("\\end{document}")


def test_the_local_backend_builds_a_document_from_the_text_layer() -> None:
    pdf = pdf_with_text(["Exercice 1 : calculer 50% de x_1", "Exercice 2\n\nDeuxième partie"])
    progress: list[int] = []

    result = backends.convert_locally(pdf=pdf, on_progress=progress.append)

    assert result.gemini_calls == 0
    assert result.charged and result.page_issues == {}
    assert "Exercice 1 : calculer 50\\% de x\\_1" in result.latex
    assert "\\newpage" in result.latex
    assert "Deuxième partie" in result.latex
    assert progress == [2]


def test_the_local_backend_says_when_a_pdf_has_no_text_at_all() -> None:
    with pytest.raises(ConversionFailed) as raised:
        backends.convert_locally(pdf=blank_pdf(2), on_progress=lambda done: None)

    assert raised.value.failure.code == "latexocr.no_text_found"
    assert not raised.value.failure.charged
    assert re.search(r"Aucun texte", raised.value.failure.message)


def test_the_local_backend_explains_that_scans_cannot_be_read_without_tesseract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tesseract, "tesseract_path", lambda: None)
    with pytest.raises(ConversionFailed) as raised:
        backends.convert_locally(
            pdf=HANDWRITTEN_FIXTURE.read_bytes(), on_progress=lambda done: None
        )

    assert not raised.value.failure.charged
    assert "document scanné" in raised.value.failure.message


@needs_tesseract
def test_the_local_backend_flags_handwriting_and_does_not_charge_for_it() -> None:
    result = backends.convert_locally(
        pdf=HANDWRITTEN_FIXTURE.read_bytes(), on_progress=lambda done: None
    )

    assert result.page_issues == {"1": "low_confidence"}
    assert not result.charged
    assert result.latex.rstrip().endswith("\\end{document}")


@pytest.mark.parametrize(
    ("page_count", "expected"),
    [
        (1, 10),  # never below LATEXOCR_PAGES_PER_CALL: one call
        (30, 10),  # 3 ranges of 10 already fit in one wave of 4
        (60, 15),  # 6 ranges of 10 would make two waves; 4 of 15 make one
        (80, 20),  # the largest range: 4 of 20, one wave
        (200, 17),  # beyond 4 x 20: 3 full waves of 4 ranges of 17, not 10 ranges of 20
    ],
)
def test_ranges_grow_to_fit_in_one_wave_of_parallel_calls_up_to_the_largest(
    settings: Any, page_count: int, expected: int
) -> None:
    settings.LATEXOCR_PAGES_PER_CALL = 10
    settings.LATEXOCR_MAX_PAGES_PER_CALL = 20
    settings.LATEXOCR_PARALLEL_CALLS = 4

    assert backends.range_size(page_count=page_count) == expected


def test_a_60_page_pdf_is_converted_in_one_wave_of_4_ranges(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_MAX_PAGES_PER_CALL = 20

    result = convert(numbered_pdf(60), 60)

    assert sorted(r.pdf_pages or 0 for r in fake_gemini.generate_requests()) == [15] * 4
    assert pages_in_order(result.latex) == list(range(1, 61))


def test_an_unreadable_200_is_retried_like_a_503_and_reported_as_gemini_failing(
    fake_gemini: FakeGemini, settings: Any
) -> None:
    settings.LATEXOCR_MAX_ATTEMPTS = 2
    fake_gemini.queue(Reply.html_page(), Reply.truncated_json())

    with pytest.raises(ConversionFailed) as raised:
        convert(numbered_pdf(1), 1)

    assert "interne" not in str(raised.value)
    assert len(fake_gemini.generate_requests()) == 2


def test_an_unreadable_200_then_a_good_answer_converts(fake_gemini: FakeGemini) -> None:
    fake_gemini.queue(Reply.truncated_json())

    assert pages_in_order(convert(numbered_pdf(1), 1).latex) == [1]
