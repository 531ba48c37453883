"""The ways a PDF becomes LaTeX: a model (page ranges in parallel, sent as the PDF or as page
images, whichever the provider reads) or the local engine (text layers, Tesseract for scans).
The model is the one platform_site.llm.registry gives latexocr; None there means the local
engine.

No database here: the service hands in the PDF and a progress callback, and gets back a
`ConversionResult` or a `ConversionFailed` carrying the failure to record (its sentence is
translated when shown). A model's failures are `LlmError`s worded by platform_site.llm; this
module adds which pages they concern.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from latexocr.engines import local_engine
from latexocr.engines.page_images import ImageFormat, PageRenderFailed, PdfPageImages
from latexocr.engines.pdf import pdf_pages
from latexocr.tex.latex import latex_merge
from platform_site.core.failures import Failure, failure_kind, failure_kind_alias
from platform_site.llm.errors import Answer, Image, LlmError
from platform_site.llm.providers import Provider
from platform_site.llm.registry import provider_for

logger = logging.getLogger(__name__)

PROMPT_TEMPLATE = "latexocr/prompt.txt"
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
    _("La page %(page)s donne une transcription trop longue pour une seule réponse du modèle."),
    retry=False,
    charged=True,
)
EMPTY_ANSWER = failure_kind(
    "latexocr.empty_answer",
    _("Le modèle a renvoyé une réponse vide pour les pages %(pages)s."),
    retry=True,
    charged=True,
)
# Stored by conversions made before one sentence served every model.
failure_kind_alias("latexocr.model_page_too_long", PAGE_TOO_LONG)
failure_kind_alias("latexocr.model_empty_answer", EMPTY_ANSWER)
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


def model_provider(backend: str | None = None) -> Provider | None:
    """The model `backend` (default: LATEXOCR_BACKEND) names; None for the local engine."""
    return provider_for("latexocr", backend)


def backend_configured(backend: str | None = None) -> bool:
    """Whether `backend` (default: LATEXOCR_BACKEND) can run here."""
    provider = model_provider(backend)
    return provider is None or provider.configured()


def missing_setting() -> str:
    """What an operator must set for the configured backend (staff pages and logs only)."""
    provider = model_provider()
    return provider.missing_setting() if provider is not None else ""


def readable_documents(backend: str | None = None) -> str:
    """What the configured engine can read, in the reader's language (the upload page)."""
    if model_provider(backend) is not None:
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


def model_and_prompt(*, backend: str, page_count: int) -> tuple[str, str]:
    """The model and prompt fingerprint a new conversion of `page_count` pages would use."""
    provider = model_provider(backend)
    if provider is None:
        return "", ""
    images = provider.reads_page_images
    return provider.model, prompt_fingerprint(page_count=page_count, images=images)


def convert(
    *, backend: str, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """Convert with `backend` (a conversion's own), its model being `model`."""
    provider = model_provider(backend)
    if provider is None:
        return convert_locally(pdf=pdf, on_progress=on_progress)
    return convert_with_model(
        provider.with_model(model), pdf=pdf, page_count=page_count, on_progress=on_progress
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


@dataclass(frozen=True)
class _Pages:
    """One range of the PDF, in the form the provider asks for (made only then)."""

    document: bytes
    page_count: int
    pages: _Range

    def pdf(self) -> bytes:
        if self.pages.start == 0 and self.pages.stop == self.page_count:
            return self.document
        return pdf_pages(self.document, start=self.pages.start, stop=self.pages.stop)

    def images(self) -> list[Image]:
        return page_images(self.document, start=self.pages.start, stop=self.pages.stop)


def convert_with_gemini(
    *, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """`convert_with_model` through Gemini (the PDF's pages themselves)."""
    return convert(
        backend="gemini", pdf=pdf, page_count=page_count, model=model, on_progress=on_progress
    )


def convert_with_openai(
    *, pdf: bytes, page_count: int, model: str, on_progress: ProgressCallback
) -> ConversionResult:
    """`convert_with_model` through a self-hosted vision model (page images)."""
    return convert(
        backend="openai", pdf=pdf, page_count=page_count, model=model, on_progress=on_progress
    )


def convert_with_model(
    provider: Provider, *, pdf: bytes, page_count: int, on_progress: ProgressCallback
) -> ConversionResult:
    """Convert in page ranges, LATEXOCR_PARALLEL_CALLS at a time: range_size() pages each, or
    the provider's own pages per call (a vision model's images, LATEXOCR_OPENAI_PAGES_PER_CALL).

    A range whose answer was cut by the output limit is split in two and both halves are
    redone; the answers are merged in page order. `on_progress` is called (from this thread)
    with the number of pages done.
    """

    def convert_range(pages: _Range) -> Answer:
        prompt = prompt_text(
            first_page=pages.start + 1,
            last_page=pages.stop,
            page_count=page_count,
            images=provider.reads_page_images,
        )
        return provider.describe_pages(prompt=prompt, pages=_Pages(pdf, page_count, pages))

    size = provider.pages_per_call or range_size(page_count=page_count)
    return _convert_in_ranges(
        convert_range,
        page_count=page_count,
        size=size,
        model=provider.model,
        on_progress=on_progress,
    )


def page_images(pdf: bytes, *, start: int, stop: int) -> list[Image]:
    """Pages `start`..`stop` (0-based, stop excluded) as images for a vision model."""
    image_format: ImageFormat = "JPEG" if settings.LATEXOCR_OPENAI_IMAGE_FORMAT == "jpeg" else "PNG"
    with PdfPageImages(pdf) as document:
        return [
            Image(
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
    call: Callable[[_Range], Answer],
    *,
    page_count: int,
    size: int,
    model: str,
    on_progress: ProgressCallback,
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
        pending: dict[Future[Answer], _Range] = {
            executor.submit(call, pages): pages for pages in ranges
        }
        while pending:
            finished, _still_running = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                pages = pending.pop(future)
                try:
                    answer = future.result()
                except (LlmError, PageRenderFailed) as error:
                    label = _pages_label(pages)
                    logger.warning("model failed on pages %s: %r", label, error)
                    failure = _call_failure(error).in_context(PAGES, pages=label)
                    # Ranges already answered were paid for: the conversion counts.
                    raise ConversionFailed(failure.with_charge(calls > 0)) from error
                calls += 1
                if answer.input_tokens is not None:
                    input_tokens = (input_tokens or 0) + answer.input_tokens
                if answer.output_tokens is not None:
                    output_tokens = (output_tokens or 0) + answer.output_tokens
                if answer.truncated:
                    if pages.pages == 1:
                        raise ConversionFailed(PAGE_TOO_LONG.failure(page=pages.start + 1))
                    logger.info(
                        "pages %d-%d cut by the output limit: splitting", pages.start, pages.stop
                    )
                    for half in pages.halves():
                        pending[executor.submit(call, half)] = half
                    continue
                if not answer.text.strip():
                    raise ConversionFailed(EMPTY_ANSWER.failure(pages=_pages_label(pages)))
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


def _call_failure(error: LlmError | PageRenderFailed) -> Failure:
    if isinstance(error, PageRenderFailed):
        return RENDER_FAILED.failure(detail=str(error))
    return error.failure
