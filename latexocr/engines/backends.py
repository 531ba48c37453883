"""The ways a PDF becomes LaTeX: Gemini (page ranges in parallel), a self-hosted vision model
(the same ranges, as page images) or the local engine (text layers, Tesseract for scans).

No database here: the service hands in the PDF and a progress callback, and gets back a
`ConversionResult` or a `ConversionFailed` carrying the failure to record (its sentence is
translated when shown). Each wrapper words its own failures; this module adds which pages
they concern.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from latexocr.engines import local_engine
from latexocr.engines.page_images import ImageFormat, PageRenderFailed, PdfPageImages
from latexocr.engines.pdf import pdf_pages
from latexocr.tex.latex import latex_merge
from platform_site.core.failures import Failure, FailureKind, failure_kind
from platform_site.llm import gemini, openai_client

logger = logging.getLogger(__name__)

PROMPT_TEMPLATE = "latexocr/prompt.txt"
# The model's whole output budget (thinking included): a range is split when it overflows.
MAX_OUTPUT_TOKENS = 65_536
# Transcription needs little reasoning; LOW keeps thinking from eating the output budget.
THINKING_LEVEL = "LOW"
# Pixel bound of a page image for a vision model: an A4 page at 150 dpi (2.2 megapixels)
# passes whole; a huge page is drawn smaller rather than sent as gigapixels.
OPENAI_MAX_PIXELS = 4_000_000


NO_TEXT_FOUND = failure_kind(
    "latexocr.no_text_found",
    _(
        "Aucun texte n’a été trouvé dans ce PDF, ni dans son texte ni dans ses images : ses "
        "pages semblent vides. Vérifiez que c’est le bon fichier."
    ),
    retry=False,
    charged=False,
)
SCANS_UNREADABLE_HERE = failure_kind(
    "latexocr.scans_unreadable_here",
    _(
        "Ce PDF est un document scanné, et ce site ne peut pas lire les documents scannés "
        "pour le moment. Réessayez plus tard, ou déposez un PDF qui contient du texte (créé "
        "avec un traitement de texte ou LaTeX)."
    ),
    retry=True,
    charged=False,
)
# The caller's context before a wrapper failure's own sentence.
PAGES = failure_kind("latexocr.pages", _("Pages %(pages)s :"), retry=True, charged=False)
PAGE_TOO_LONG = failure_kind(
    "latexocr.page_too_long",
    _("La page %(page)s donne une transcription trop longue pour une seule réponse de Gemini."),
    retry=False,
    charged=True,
)
EMPTY_ANSWER = failure_kind(
    "latexocr.empty_answer",
    _("Gemini a renvoyé une réponse vide pour les pages %(pages)s."),
    retry=True,
    charged=True,
)
MODEL_PAGE_TOO_LONG = failure_kind(
    "latexocr.model_page_too_long",
    _("La page %(page)s donne une transcription trop longue pour une seule réponse du modèle."),
    retry=False,
    charged=True,
)
MODEL_EMPTY_ANSWER = failure_kind(
    "latexocr.model_empty_answer",
    _("Le modèle a renvoyé une réponse vide pour les pages %(pages)s."),
    retry=True,
    charged=True,
)
RENDER_FAILED = failure_kind(
    "latexocr.render_failed",
    _("Ces pages du PDF n’ont pas pu être converties en images."),
    retry=False,
    charged=False,
)


class ConversionFailed(Exception):
    """The conversion cannot succeed as things stand; `failure` is what to record and show."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail or failure.code)
        self.failure = failure


def backend_configured(backend: str | None = None) -> bool:
    """Whether `backend` (default: LATEXOCR_BACKEND) can run here."""
    backend = backend or settings.LATEXOCR_BACKEND
    if backend == "gemini":
        return gemini.is_configured()
    if backend == "openai":
        return openai_client.configured(model=settings.LATEXOCR_OPENAI_MODEL)
    return True


def missing_setting() -> str:
    """What an operator must set for the configured backend (staff pages and logs only)."""
    if settings.LATEXOCR_BACKEND == "gemini":
        return gemini.missing_setting()
    if settings.LATEXOCR_BACKEND == "openai":
        return "OPENAI_BASE_URL, LATEXOCR_OPENAI_MODEL"
    return ""


def readable_documents(backend: str | None = None) -> str:
    """What the configured engine can read, in the reader's language (the upload page)."""
    backend = backend or settings.LATEXOCR_BACKEND
    if backend in ("gemini", "openai"):
        return str(
            _(
                "Ce site lit tous les PDF : documents tapés, scannés ou manuscrits (même des "
                "formules écrites à la main)."
            )
        )
    return str(
        _(
            "Ce site lit les PDF qui contiennent du texte et les documents imprimés scannés ; "
            "l’écriture manuscrite et les formules ne sont pas lues de façon fiable ici."
        )
    )


@dataclass(frozen=True)
class ConversionResult:
    latex: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    gemini_calls: int
    # Local engine: 1-based page number (as a string, for JSON) → why its text is unsure.
    page_issues: dict[str, str] = field(default_factory=dict)
    # False when nothing usable came out (the daily quota does not count it).
    charged: bool = True


ProgressCallback = Callable[[int], None]


def prompt_text(*, first_page: int, last_page: int, page_count: int, images: bool = False) -> str:
    """The transcription request; `images`: the pages come as images, not as a PDF."""
    return render_to_string(
        PROMPT_TEMPLATE,
        {
            "first_page": first_page,
            "last_page": last_page,
            "page_count": page_count,
            "images": images,
        },
    ).strip()


def prompt_fingerprint(*, page_count: int, images: bool = False) -> str:
    """Identifies the instructions a whole document is converted with (duplicate detection)."""
    prompt = prompt_text(first_page=1, last_page=page_count, page_count=page_count, images=images)
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


def openai_chat(
    *, model: str, prompt: str, images: Sequence[openai_client.Image] = ()
) -> openai_client.ChatAnswer:
    """One call to the self-hosted model with LaTeX OCR's output budget, time limit, attempts."""
    return openai_client.chat(
        model=model,
        prompt=prompt,
        images=images,
        max_tokens=settings.LATEXOCR_OPENAI_MAX_TOKENS,
        timeout_s=settings.LATEXOCR_CALL_TIMEOUT_S,
        attempts=settings.LATEXOCR_MAX_ATTEMPTS,
    )


def convert_locally(*, pdf: bytes, on_progress: ProgressCallback) -> ConversionResult:
    """Text layers, and Tesseract for scanned pages (latexocr/engines/local_engine.py)."""
    try:
        reading = local_engine.read_locally(pdf=pdf, on_progress=on_progress)
    except local_engine.NothingToRead as error:
        raise ConversionFailed(NO_TEXT_FOUND.failure(detail="No text in any page.")) from error
    except local_engine.OcrUnavailable as error:
        raise ConversionFailed(
            SCANS_UNREADABLE_HERE.failure(detail="Every page is a scan; tesseract is missing.")
        ) from error
    return ConversionResult(
        latex=reading.latex,
        model="",
        input_tokens=None,
        output_tokens=None,
        gemini_calls=0,
        page_issues={str(number): str(issue) for number, issue in reading.page_issues.items()},
        charged=reading.anything_usable,
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


class _Answer(Protocol):
    """What both wrappers' answers have (GeminiAnswer, openai_client.ChatAnswer)."""

    @property
    def text(self) -> str: ...
    @property
    def truncated(self) -> bool: ...
    @property
    def input_tokens(self) -> int | None: ...
    @property
    def output_tokens(self) -> int | None: ...


@dataclass(frozen=True)
class _Engine:
    """One model behind the range loop: its call, its errors and how they are recorded."""

    call: Callable[[_Range], _Answer]
    errors: tuple[type[Exception], ...]
    # The wrapper's own failure for one of `errors` (the loop adds the pages).
    failure_of: Callable[[Exception], Failure]
    too_long: FailureKind
    empty: FailureKind


def convert_with_gemini(
    *, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """Convert in page ranges (range_size()), LATEXOCR_PARALLEL_CALLS at a time.

    A range whose answer was cut by the output limit is split in two and both halves are
    redone; the answers are merged in page order. `on_progress` is called (from this thread)
    with the number of pages done.
    """

    def convert_range(pages: _Range) -> _Answer:
        whole = pages.start == 0 and pages.stop == page_count
        return gemini_generate(
            model=model,
            prompt=prompt_text(
                first_page=pages.start + 1, last_page=pages.stop, page_count=page_count
            ),
            pdf=pdf if whole else pdf_pages(pdf, start=pages.start, stop=pages.stop),
        )

    engine = _Engine(
        call=convert_range,
        errors=(gemini.GeminiError,),
        failure_of=_wrapper_failure,
        too_long=PAGE_TOO_LONG,
        empty=EMPTY_ANSWER,
    )
    size = range_size(page_count=page_count)
    return _convert_in_ranges(
        engine, page_count=page_count, size=size, model=model, on_progress=on_progress
    )


def convert_with_openai(
    *, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """Convert through a self-hosted vision model: each page rendered to an image
    (latexocr.engines.page_images), LATEXOCR_OPENAI_PAGES_PER_CALL images per call, sent as
    `image_url` parts with the transcription prompt; split, merged and reported exactly as
    the Gemini path."""

    def convert_range(pages: _Range) -> _Answer:
        return openai_chat(
            model=model,
            prompt=prompt_text(
                first_page=pages.start + 1,
                last_page=pages.stop,
                page_count=page_count,
                images=True,
            ),
            images=page_images(pdf, start=pages.start, stop=pages.stop),
        )

    engine = _Engine(
        call=convert_range,
        errors=(openai_client.ModelServerError, PageRenderFailed),
        failure_of=_wrapper_failure,
        too_long=MODEL_PAGE_TOO_LONG,
        empty=MODEL_EMPTY_ANSWER,
    )
    size = max(1, settings.LATEXOCR_OPENAI_PAGES_PER_CALL)
    return _convert_in_ranges(
        engine, page_count=page_count, size=size, model=model, on_progress=on_progress
    )


def page_images(pdf: bytes, *, start: int, stop: int) -> list[openai_client.Image]:
    """Pages `start`..`stop` (0-based, stop excluded) as images for a vision model."""
    image_format: ImageFormat = "JPEG" if settings.LATEXOCR_OPENAI_IMAGE_FORMAT == "jpeg" else "PNG"
    with PdfPageImages(pdf) as document:
        return [
            openai_client.Image(
                data=document.render_bytes(
                    index,
                    dpi=settings.LATEXOCR_OPENAI_IMAGE_DPI,
                    grey=False,
                    max_pixels=OPENAI_MAX_PIXELS,
                    image_format=image_format,
                ),
                mime_type=f"image/{image_format.lower()}",
            )
            for index in range(start, stop)
        ]


def _convert_in_ranges(
    engine: _Engine, *, page_count: int, size: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    ranges = [_Range(start, min(start + size, page_count)) for start in range(0, page_count, size)]
    answers: dict[int, str] = {}
    input_tokens: int | None = None
    output_tokens: int | None = None
    calls = 0
    pages_done = 0

    executor = ThreadPoolExecutor(
        max_workers=max(1, settings.LATEXOCR_PARALLEL_CALLS), thread_name_prefix="latexocr"
    )
    try:
        pending: dict[Future[_Answer], _Range] = {
            executor.submit(engine.call, pages): pages for pages in ranges
        }
        while pending:
            finished, _still_running = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pages = pending.pop(future)
                try:
                    answer = future.result()
                except engine.errors as error:
                    label = _pages_label(pages)
                    logger.warning("model failed on pages %s: %r", label, error)
                    failure = engine.failure_of(error).in_context(PAGES, pages=label)
                    # Ranges already answered were paid for: the conversion counts.
                    raise ConversionFailed(failure.with_charge(calls > 0)) from error
                calls += 1
                if answer.input_tokens is not None:
                    input_tokens = (input_tokens or 0) + answer.input_tokens
                if answer.output_tokens is not None:
                    output_tokens = (output_tokens or 0) + answer.output_tokens
                if answer.truncated:
                    if pages.pages == 1:
                        raise ConversionFailed(engine.too_long.failure(page=pages.start + 1))
                    logger.info(
                        "pages %d-%d cut by the output limit: splitting", pages.start, pages.stop
                    )
                    for half in pages.halves():
                        pending[executor.submit(engine.call, half)] = half
                    continue
                if not answer.text.strip():
                    raise ConversionFailed(engine.empty.failure(pages=_pages_label(pages)))
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


def _wrapper_failure(error: Exception) -> Failure:
    if isinstance(error, gemini.GeminiError | openai_client.ModelServerError):
        return error.failure
    if isinstance(error, PageRenderFailed):
        return RENDER_FAILED.failure(detail=str(error))
    raise TypeError(f"not a wrapper error: {error!r}")
