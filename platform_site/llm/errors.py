"""What a model call gives back: one answer type and one error type, whatever the provider.

Every provider (Gemini, an OpenAI-compatible server, the Make.com webhook) turns its outcome
into an `Answer` or an `LlmError` carrying one of the kinds below. A kind is a concept the
student can act on (wait, retry, rephrase, tell the teacher), worded once: students never
read a vendor's name, the vendor's own words stay in the error's detail (staff and logs).
The apps map kinds to statuses; they never see a vendor exception.

Failure codes are stored (codegen's questions, latexocr's conversions) and worded when shown:
the codes the three clients stored before they shared these kinds stay declared as aliases,
so an old row still reads in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from platform_site.core.failures import (
    Failure,
    FailureKind,
    ParamValue,
    failure_kind,
    failure_kind_alias,
)

# `retry`: whether the same work sent again can succeed. `charged`: whether the provider did
# (paid) work before the failure; only its answers cost.
NOT_CONFIGURED = failure_kind(
    "llm.not_configured",
    _(
        "Le service d’IA n’est pas disponible sur ce site pour le moment ; prévenez votre "
        "enseignant."
    ),
    retry=False,
    charged=False,
)
TIMEOUT = failure_kind(
    "llm.timeout",
    _("Le modèle n’a pas répondu à temps. Réessayez un peu plus tard."),
    retry=True,
    charged=False,
)
# No answer at all: refused connection, a 5xx, a connection cut before the answer.
UNREACHABLE = failure_kind(
    "llm.unreachable",
    _("Le service qui rédige les réponses est injoignable pour le moment. Réessayez plus tard."),
    retry=True,
    charged=False,
)
# A 4xx or a configuration fault upstream (bad key, unknown model, disabled webhook): the
# same request fails the same way until an operator acts.
REJECTED = failure_kind(
    "llm.rejected",
    _("Le service d’IA a refusé la demande. Si cela se reproduit, signalez-le à votre enseignant."),
    retry=False,
    charged=False,
)
QUOTA_EXHAUSTED = failure_kind(
    "llm.quota_exhausted",
    _(
        "Le quota quotidien du service d’IA est épuisé. Réessayez demain : il est remis à zéro "
        "chaque nuit."
    ),
    retry=True,
    charged=False,
)
RATE_LIMITED = failure_kind(
    "llm.rate_limited",
    _("Le service qui rédige les réponses est surchargé. Réessayez dans un instant."),
    retry=True,
    charged=False,
)
BLOCKED = failure_kind(
    "llm.blocked",
    _("Le modèle a refusé de répondre à cette demande."),
    retry=False,
    charged=True,
)
# The output limit cut the answer: the same input is cut again.
ANSWER_CUT = failure_kind(
    "llm.answer_cut",
    _("La réponse du modèle a été coupée (limite de longueur) : reformulez plus court."),
    retry=False,
    charged=True,
)
# An answer came, but without text, or cut in transit: another attempt may give one.
ANSWER_UNUSABLE = failure_kind(
    "llm.answer_unusable",
    _("Le modèle a répondu sans aucun texte. Réessayez."),
    retry=True,
    charged=True,
)
# A 200 whose body is not the protocol's (a proxy's HTML page, JSON cut short).
MALFORMED = failure_kind(
    "llm.malformed",
    _("Le service qui rédige les réponses a renvoyé une réponse illisible. Réessayez."),
    retry=True,
    charged=False,
)

# The codes each client declared before they shared the kinds above (stored in old rows).
OLD_CODES: dict[str, FailureKind] = {
    "gemini.not_configured": NOT_CONFIGURED,
    "openai.not_configured": NOT_CONFIGURED,
    "webhook.not_configured": NOT_CONFIGURED,
    "gemini.timeout": TIMEOUT,
    "openai.timeout": TIMEOUT,
    "webhook.timeout": TIMEOUT,
    "gemini.unavailable": UNREACHABLE,
    "openai.error": UNREACHABLE,
    "openai.unreachable": UNREACHABLE,
    "openai.upstream": UNREACHABLE,
    "webhook.unreachable": UNREACHABLE,
    "webhook.connection_lost": UNREACHABLE,
    "webhook.unavailable": UNREACHABLE,
    "gemini.rejected": REJECTED,
    "openai.rejected": REJECTED,
    "webhook.misconfigured": REJECTED,
    "gemini.quota_exhausted": QUOTA_EXHAUSTED,
    "openai.busy": RATE_LIMITED,
    "webhook.busy": RATE_LIMITED,
    "gemini.blocked": BLOCKED,
    "openai.blocked": BLOCKED,
    "gemini.answer_cut": ANSWER_CUT,
    "openai.answer_cut": ANSWER_CUT,
    "webhook.reply_too_large": ANSWER_CUT,
    "gemini.answer_empty": ANSWER_UNUSABLE,
    "openai.answer_empty": ANSWER_UNUSABLE,
    "webhook.reply_empty": ANSWER_UNUSABLE,
    "webhook.reply_cut": ANSWER_UNUSABLE,
    "openai.malformed": MALFORMED,
    "webhook.unreadable": MALFORMED,
}
for _old_code, _kind in OLD_CODES.items():
    failure_kind_alias(_old_code, _kind)


class LlmError(Exception):
    """Any failure to get an answer from a model. `str()` is the staff detail (the vendor's
    words, English); `kind` is the concept; `failure` is what is recorded and shown."""

    def __init__(
        self,
        kind: FailureKind,
        detail: str,
        *,
        status_code: int | None = None,
        **params: ParamValue,
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        # The upstream's HTTP status (None: no status, e.g. the connection failed).
        self.status_code = status_code
        self.params = params

    @property
    def failure(self) -> Failure:
        return self.kind.failure(detail=str(self), **self.params)

    def __repr__(self) -> str:
        return f"LlmError({self.kind.code!r}, {str(self)!r})"


@dataclass(frozen=True)
class Image:
    data: bytes
    mime_type: str  # image/png or image/jpeg


@dataclass(frozen=True)
class Answer:
    text: str
    model: str
    finish_reason: str = ""
    # True when the output limit cut the answer: the text must not be used as if whole.
    truncated: bool = False
    input_tokens: int | None = None
    output_tokens: int | None = None


def answer_text(answer: Answer) -> str:
    """The answer's whole text, or an LlmError (ANSWER_CUT, ANSWER_UNUSABLE) if it cannot serve."""
    if answer.truncated:
        raise LlmError(ANSWER_CUT, f"Answer cut by the output limit ({answer.finish_reason}).")
    if not answer.text.strip():
        raise LlmError(ANSWER_UNUSABLE, f"Answer without text ({answer.finish_reason}).")
    return answer.text
