"""The two ways a PDF becomes LaTeX: Gemini (page ranges in parallel) or the PDF's text layer.

No database here: the service hands in the PDF and a progress callback, and gets back a
`ConversionResult` or a `ConversionFailed` whose message is meant for the user.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from latexocr.latex import latex_from_text_pages, latex_merge
from latexocr.pdf import pdf_pages, pdf_text_pages
from platform_site import gemini

logger = logging.getLogger(__name__)

PROMPT_TEMPLATE = "latexocr/prompt.txt"
# The model's whole output budget (thinking included): a range is split when it overflows.
MAX_OUTPUT_TOKENS = 65_536
# Transcription needs little reasoning; LOW keeps thinking from eating the output budget.
THINKING_LEVEL = "LOW"


class ConversionFailed(Exception):
    """The conversion cannot succeed as things stand; the message is for the user."""


@dataclass(frozen=True)
class ConversionResult:
    latex: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    gemini_calls: int


ProgressCallback = Callable[[int], None]


def prompt_text(*, first_page: int, last_page: int, page_count: int) -> str:
    return render_to_string(
        PROMPT_TEMPLATE,
        {"first_page": first_page, "last_page": last_page, "page_count": page_count},
    ).strip()


def prompt_fingerprint(*, page_count: int) -> str:
    """Identifies the instructions a whole document is converted with (duplicate detection)."""
    prompt = prompt_text(first_page=1, last_page=page_count, page_count=page_count)
    return hashlib.sha256(prompt.encode()).hexdigest()


def gemini_generate(*, model: str, prompt: str, pdf: bytes | None = None) -> gemini.GeminiAnswer:
    """One Gemini call with LaTeX OCR's output budget, thinking level, time limit and attempts."""
    return gemini.generate(
        model=model,
        prompt=prompt,
        pdf=pdf,
        max_output_tokens=MAX_OUTPUT_TOKENS,
        timeout_s=settings.LATEXOCR_CALL_TIMEOUT_S,
        attempts=settings.LATEXOCR_MAX_ATTEMPTS,
        thinking_level=THINKING_LEVEL,
    )


def convert_locally(*, pdf: bytes) -> ConversionResult:
    pages = pdf_text_pages(pdf)
    if not any(text.strip() for text in pages):
        raise ConversionFailed(
            _(
                "Ce PDF n'a pas de couche texte (document scanné ou manuscrit) : sa conversion "
                "demande Gemini, qui n'est pas configuré sur ce serveur."
            )
        )
    return ConversionResult(
        latex=latex_from_text_pages(pages),
        model="",
        input_tokens=None,
        output_tokens=None,
        gemini_calls=0,
    )


@dataclass(frozen=True)
class _Range:
    start: int  # 0-based, inclusive
    stop: int  # exclusive

    @property
    def pages(self) -> int:
        return self.stop - self.start

    def halves(self) -> tuple[_Range, _Range]:
        middle = (self.start + self.stop) // 2
        return _Range(self.start, middle), _Range(middle, self.stop)


def range_size(*, page_count: int) -> int:
    """Pages per range: as few waves of LATEXOCR_PARALLEL_CALLS calls as the largest range
    allows, the pages spread evenly over every call of those waves.

    Fixed ranges of 10 pages made 6 ranges of a 60-page PDF over 4 parallel calls: two waves,
    the second one half empty, so the conversion took two ranges' time (docs/performance.md).
    Ranges of 15 pages make one wave of 4, with fewer calls (and preambles) in all. A range
    never has fewer than LATEXOCR_PAGES_PER_CALL pages (more calls cost more prompts and
    preambles) nor more than LATEXOCR_MAX_PAGES_PER_CALL (a longer answer risks the output
    limit, which costs a split and a redo); a PDF beyond parallel x largest goes in waves.
    """
    smallest = max(1, settings.LATEXOCR_PAGES_PER_CALL)
    largest = max(smallest, settings.LATEXOCR_MAX_PAGES_PER_CALL)
    parallel = max(1, settings.LATEXOCR_PARALLEL_CALLS)
    waves = max(1, math.ceil(math.ceil(page_count / largest) / parallel))
    return min(largest, max(smallest, math.ceil(page_count / (waves * parallel))))


def convert_with_gemini(
    *, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """Convert in page ranges (range_size()), LATEXOCR_PARALLEL_CALLS at a time.

    A range whose answer was cut by the output limit is split in two and both halves are
    redone; the answers are merged in page order. `on_progress` is called (from this thread)
    with the number of pages done.
    """
    size = range_size(page_count=page_count)
    ranges = [_Range(start, min(start + size, page_count)) for start in range(0, page_count, size)]
    answers: dict[int, str] = {}
    input_tokens: int | None = None
    output_tokens: int | None = None
    calls = 0
    pages_done = 0

    def convert_range(pages: _Range) -> gemini.GeminiAnswer:
        whole = pages.start == 0 and pages.stop == page_count
        return gemini_generate(
            model=model,
            prompt=prompt_text(
                first_page=pages.start + 1, last_page=pages.stop, page_count=page_count
            ),
            pdf=pdf if whole else pdf_pages(pdf, start=pages.start, stop=pages.stop),
        )

    executor = ThreadPoolExecutor(
        max_workers=max(1, settings.LATEXOCR_PARALLEL_CALLS), thread_name_prefix="latexocr"
    )
    try:
        pending: dict[Future[gemini.GeminiAnswer], _Range] = {
            executor.submit(convert_range, pages): pages for pages in ranges
        }
        while pending:
            finished, _still_running = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pages = pending.pop(future)
                try:
                    answer = future.result()
                except gemini.GeminiError as error:
                    raise ConversionFailed(_gemini_failure_message(error, pages)) from error
                calls += 1
                if answer.input_tokens is not None:
                    input_tokens = (input_tokens or 0) + answer.input_tokens
                if answer.output_tokens is not None:
                    output_tokens = (output_tokens or 0) + answer.output_tokens
                if answer.truncated:
                    if pages.pages == 1:
                        raise ConversionFailed(
                            _(
                                "La page %(page)d donne une transcription trop longue pour "
                                "une seule réponse de Gemini."
                            )
                            % {"page": pages.start + 1}
                        )
                    logger.info("pages %d-%d cut by MAX_TOKENS: splitting", pages.start, pages.stop)
                    for half in pages.halves():
                        pending[executor.submit(convert_range, half)] = half
                    continue
                if not answer.text.strip():
                    raise ConversionFailed(
                        _("Gemini a renvoyé une réponse vide pour les pages %(range)s.")
                        % {"range": _pages_label(pages)}
                    )
                answers[pages.start] = answer.text
                pages_done += pages.pages
                on_progress(pages_done)
    finally:
        # On failure, ranges not yet started are dropped; those in flight finish unread.
        executor.shutdown(wait=False, cancel_futures=True)

    return ConversionResult(
        latex=latex_merge([answers[start] for start in sorted(answers)]),
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        gemini_calls=calls,
    )


def _pages_label(pages: _Range) -> str:
    if pages.pages == 1:
        return str(pages.start + 1)
    return f"{pages.start + 1}-{pages.stop}"


def _gemini_failure_message(error: gemini.GeminiError, pages: _Range) -> str:
    logger.warning("gemini failed on pages %s: %r", _pages_label(pages), error)
    if isinstance(error, gemini.GeminiNotConfigured):
        return _("La conversion par Gemini n'est pas configurée sur ce serveur (clé absente).")
    if isinstance(error, gemini.GeminiQuotaExhausted):
        return _(
            "Le quota quotidien de Gemini est épuisé. Relancez la conversion demain : le quota "
            "est remis à zéro chaque nuit (minuit, heure du Pacifique)."
        )
    if isinstance(error, gemini.GeminiRejected):
        return _(
            "Gemini a refusé la demande (document refusé ou configuration du serveur "
            "incorrecte). Si cela se reproduit, signalez-le à l'équipe."
        )
    if isinstance(error, gemini.GeminiBlocked):
        return _("Gemini a refusé de transcrire les pages %(range)s (filtre : %(reason)s).") % {
            "range": _pages_label(pages),
            "reason": error.finish_reason,
        }
    if isinstance(error, gemini.GeminiTimeout):
        return _(
            "Gemini n'a pas répondu à temps, même après plusieurs essais. Relancez la "
            "conversion un peu plus tard."
        )
    return _(
        "Gemini est indisponible pour le moment, même après plusieurs essais. Relancez la "
        "conversion dans quelques minutes."
    )
