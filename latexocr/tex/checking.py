"""The compile check that follows a conversion: compile, and when that fails, one repair round.

The model promises LaTeX "that compiles"; we check it with `compiler.latex_compile`. When the
document does not compile and a model made it, its errors go back to a model once with a
request for a corrected complete document (`repair_prompt`), which is compiled in turn. Nothing here
touches the database: the service hands in the LaTeX and stores the `LatexCheck` it gets back.
A failed repair is never a failed conversion: the original document stays the result.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from latexocr.engines.backends import model_provider
from latexocr.tex.compiler import CompileResult, latex_compile
from latexocr.tex.errors import CompileError
from latexocr.tex.latex import latex_strip_fences
from platform_site.core.failures import Failure, FailureKind, failure_kind
from platform_site.llm.errors import (
    BLOCKED,
    NOT_CONFIGURED,
    QUOTA_EXHAUSTED,
    REJECTED,
    TIMEOUT,
    Answer,
    LlmError,
)
from platform_site.llm.providers import Provider, not_configured
from platform_site.llm.registry import repair_backend_name

logger = logging.getLogger(__name__)

REPAIR_PROMPT_TEMPLATE = "latexocr/repair_prompt.txt"
# Source lines quoted in the repair prompt are cut here: one line is enough to locate a fault.
QUOTED_LINE_MAX_CHARS = 200


@dataclass(frozen=True)
class LatexCheck:
    original: CompileResult
    # The repair round's document ("" when there was no round or it gave no document).
    repaired_latex: str
    repaired: CompileResult | None
    # Why the repair round gave no document (None when it gave one or did not run): a code,
    # worded in the reader's language when shown.
    repair_error: Failure | None
    gemini_calls: int
    input_tokens: int | None
    output_tokens: int | None

    @property
    def compiled(self) -> bool:
        return self.original.compiled or (self.repaired is not None and self.repaired.compiled)

    @property
    def repair_error_message(self) -> str:
        return self.repair_error.message if self.repair_error else ""

    @property
    def duration_s(self) -> float:
        return self.original.duration_s + (self.repaired.duration_s if self.repaired else 0.0)


def repair_configured(*, conversion_backend: str) -> bool:
    """Whether that model can be asked (the result page offers the repair only then)."""
    backend = repair_backend_name(conversion_backend=conversion_backend)
    return _repair_provider(backend).configured()


def _repair_provider(backend: str) -> Provider:
    provider = model_provider(backend)
    if provider is None:  # repair_backend_name() only names models
        raise LookupError(f"latexocr: {backend!r} is not a model backend")
    return provider


def latex_check(
    *, latex: str, repair: bool, backend: str = "gemini", failed: CompileResult | None = None
) -> LatexCheck:
    """Compile `latex`; if it fails and `repair` is set, ask the model once for a fix (Gemini,
    or the self-hosted model when `backend` is "openai"), compile that.

    `failed`: the failing result of `latex` already stored, which the round starts from
    instead of compiling the same document again."""
    original = failed if failed is not None else compile_with_limits(latex)
    if original.compiled or original.skipped_reason is not None or not repair:
        return _without_repair(original)

    answer = _ask_for_repair(repair_prompt(source=latex, errors=original.errors), backend)
    if isinstance(answer, Failure):
        return _without_repair(original, repair_error=answer)
    repaired_latex = latex_strip_fences(answer.text)
    repair_error = _unusable_answer_reason(answer, repaired_latex=repaired_latex, latex=latex)
    if repair_error is not None:
        return LatexCheck(
            original=original,
            repaired_latex="",
            repaired=None,
            repair_error=repair_error,
            gemini_calls=1,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
        )
    repaired_latex += "\n"
    return LatexCheck(
        original=original,
        repaired_latex=repaired_latex,
        repaired=compile_with_limits(repaired_latex),
        repair_error=None,
        gemini_calls=1,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
    )


def _ask_for_repair(prompt: str, backend: str) -> Answer | Failure:
    """The model's answer, or why there is none."""
    provider = _repair_provider(backend)
    try:
        if not provider.configured():
            raise not_configured(provider)
        return provider.complete(prompt=prompt)
    except LlmError as error:
        logger.warning("repair round: the model failed: %r", error)
        return _repair_failure(error).failure(detail=repr(error))


def _unusable_answer_reason(answer: Answer, *, repaired_latex: str, latex: str) -> Failure | None:
    """Why the answer cannot be compiled as the repaired document (None when it can)."""
    if answer.truncated:
        return REPAIR_TRUNCATED.failure()
    if r"\begin{document}" not in repaired_latex or r"\end{document}" not in repaired_latex:
        return REPAIR_INCOMPLETE.failure()
    if repaired_latex.strip() == latex.strip():
        # Compiling it again would only repeat the same errors.
        return REPAIR_UNCHANGED.failure()
    return None


def repair_prompt(*, source: str, errors: list[CompileError]) -> str:
    """The request for a corrected complete document, sent with the compiler's errors."""
    source_lines = source.splitlines()
    listed = []
    # The prompt is written in French, whatever the language of the request that asked.
    with translation.override("fr"):
        for error in errors:
            if error.line is not None and 1 <= error.line <= len(source_lines):
                quoted = source_lines[error.line - 1].strip()[:QUOTED_LINE_MAX_CHARS]
                listed.append(f"- ligne {error.line} ({quoted}) : {error.message}")
            else:
                listed.append(f"- {error.message}")
    prompt = render_to_string(
        REPAIR_PROMPT_TEMPLATE, {"errors": "\n".join(listed), "source": source}
    )
    # The template file's own last line break is not part of the prompt.
    return prompt.removesuffix("\n")


def compile_with_limits(source: str) -> CompileResult:
    """One compilation with the configured engine and limits (the check and every version)."""
    return latex_compile(
        source=source,
        timeout_s=settings.LATEXOCR_COMPILE_TIMEOUT_S,
        max_output_bytes=settings.LATEXOCR_COMPILE_MAX_OUTPUT_MB * 1024 * 1024,
    )


def _without_repair(original: CompileResult, *, repair_error: Failure | None = None) -> LatexCheck:
    return LatexCheck(
        original=original,
        repaired_latex="",
        repaired=None,
        repair_error=repair_error,
        gemini_calls=0,
        input_tokens=None,
        output_tokens=None,
    )


def _repair_kind(code: str, message: str | Promise) -> FailureKind:
    # A repair round that failed may succeed when asked again; the request counted.
    return failure_kind(f"latexocr.repair.{code}", message, retry=True, charged=True)


REPAIR_NOT_CONFIGURED = _repair_kind(
    "not_configured", _("le service d’IA n’est pas configuré sur ce site")
)
REPAIR_QUOTA = _repair_kind("quota", _("le quota quotidien du service d’IA est épuisé"))
REPAIR_TIMEOUT = _repair_kind("timeout", _("le modèle n’a pas répondu à temps"))
REPAIR_REFUSED = _repair_kind("refused", _("le modèle a refusé la demande"))
REPAIR_UNAVAILABLE = _repair_kind(
    "unavailable", _("le service d’IA est indisponible pour le moment")
)
REPAIR_TRUNCATED = _repair_kind(
    "truncated", _("la réponse du modèle a été coupée avant la fin du document")
)
REPAIR_INCOMPLETE = _repair_kind("incomplete", _("le modèle n’a pas renvoyé de document complet"))
REPAIR_UNCHANGED = _repair_kind("unchanged", _("le modèle a renvoyé le document sans le modifier"))


def _repair_failure(error: LlmError) -> FailureKind:
    if error.kind is NOT_CONFIGURED:
        return REPAIR_NOT_CONFIGURED
    if error.kind is QUOTA_EXHAUSTED:
        return REPAIR_QUOTA
    if error.kind is TIMEOUT:
        return REPAIR_TIMEOUT
    if error.kind in (BLOCKED, REJECTED):
        return REPAIR_REFUSED
    return REPAIR_UNAVAILABLE
