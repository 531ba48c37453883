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
from django.utils.translation import gettext as _

from latexocr.engines.backends import model_provider
from latexocr.tex.compiler import CompileResult, latex_compile
from latexocr.tex.errors import CompileError
from latexocr.tex.latex import latex_strip_fences
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
    # Why the repair round gave no document, for the user ("" when it gave one).
    repair_error: str
    gemini_calls: int
    input_tokens: int | None
    output_tokens: int | None

    @property
    def compiled(self) -> bool:
        return self.original.compiled or (self.repaired is not None and self.repaired.compiled)

    @property
    def duration_s(self) -> float:
        return self.original.duration_s + (self.repaired.duration_s if self.repaired else 0.0)


def repair_backend(*, conversion_backend: str) -> str:
    """The model a repair of a conversion's document goes to: the self-hosted one for its own
    documents and for every document on a site that runs on it (no Gemini there); else Gemini."""
    if "openai" in (conversion_backend, settings.LATEXOCR_BACKEND):
        return "openai"
    return "gemini"


def repair_configured(*, conversion_backend: str) -> bool:
    """Whether that model can be asked (the result page offers the repair only then)."""
    return _repair_provider(repair_backend(conversion_backend=conversion_backend)).configured()


def _repair_provider(backend: str) -> Provider:
    provider = model_provider(backend)
    if provider is None:  # repair_backend() only names models
        raise LookupError(f"latexocr: {backend!r} is not a model backend")
    return provider


def latex_check(*, latex: str, repair: bool, backend: str = "gemini") -> LatexCheck:
    """Compile `latex`; if it fails and `repair` is set, ask the model once for a fix (Gemini,
    or the self-hosted model when `backend` is "openai"), compile that."""
    original = compile_with_limits(latex)
    if original.compiled or original.skipped_reason is not None or not repair:
        return _without_repair(original)

    answer = _ask_for_repair(repair_prompt(source=latex, errors=original.errors), backend)
    if isinstance(answer, str):
        return _without_repair(original, repair_error=answer)
    repaired_latex = latex_strip_fences(answer.text)
    repair_error = _unusable_answer_reason(answer, repaired_latex=repaired_latex, latex=latex)
    if repair_error:
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
        repair_error="",
        gemini_calls=1,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
    )


def _ask_for_repair(prompt: str, backend: str) -> Answer | str:
    """The model's answer, or why there is none (for the user)."""
    provider = _repair_provider(backend)
    try:
        if not provider.configured():
            raise not_configured(provider)
        return provider.complete(prompt=prompt)
    except LlmError as error:
        logger.warning("repair round: the model failed: %r", error)
        return _repair_failure_message(error)


def _unusable_answer_reason(answer: Answer, *, repaired_latex: str, latex: str) -> str:
    """Why the answer cannot be compiled as the repaired document ("" when it can)."""
    if answer.truncated:
        return _("la réponse du modèle a été coupée avant la fin du document")
    if r"\begin{document}" not in repaired_latex or r"\end{document}" not in repaired_latex:
        return _("le modèle n’a pas renvoyé de document complet")
    if repaired_latex.strip() == latex.strip():
        # Compiling it again would only repeat the same errors.
        return _("le modèle a renvoyé le document sans le modifier")
    return ""


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


def _without_repair(original: CompileResult, *, repair_error: str = "") -> LatexCheck:
    return LatexCheck(
        original=original,
        repaired_latex="",
        repaired=None,
        repair_error=repair_error,
        gemini_calls=0,
        input_tokens=None,
        output_tokens=None,
    )


def _repair_failure_message(error: LlmError) -> str:
    if error.kind is NOT_CONFIGURED:
        return _("le service d’IA n’est pas configuré sur ce site")
    if error.kind is QUOTA_EXHAUSTED:
        return _("le quota quotidien du service d’IA est épuisé")
    if error.kind is TIMEOUT:
        return _("le modèle n’a pas répondu à temps")
    if error.kind in (BLOCKED, REJECTED):
        return _("le modèle a refusé la demande")
    return _("le service d’IA est indisponible pour le moment")
