"""Failures stored as a code and parameters, worded in the reader's language when shown.

A failed question or conversion keeps what went wrong as data: a code (`"gemini.timeout"`),
its parameters (`{"seconds": 90}`) and, apart, the raw upstream detail for staff. The sentence
is looked up and translated only when a page, a history or the JSON API shows it, so a
failure recorded while the student read French reads in English after switching.

Each code is declared once, beside the code that raises it, with `failure_kind(...)`:

    TIMEOUT = failure_kind(
        "gemini.timeout", _("Gemini did not answer in time."), retry=True, charged=False
    )
    raise SomeError(TIMEOUT.failure(detail="read timeout after 90 s"))

`retry`: whether sending the same work again can succeed (the retry button is offered only
then). `charged`: whether the attempt cost something upstream, i.e. counts against the
daily quota (see docs/codegen.md, "Quota"). A caller may add its own context, a second kind
whose sentence comes first (`failure.in_context(PAGES, pages="3-5")`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.contrib import admin
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

type ParamValue = str | int | float
# Stored in the parameters: the code of the caller's context sentence, if any.
CONTEXT_KEY = "_context"


@dataclass(frozen=True)
class FailureKind:
    code: str
    # A lazily translated sentence with %(name)s placeholders, filled from the parameters.
    message: str | Promise
    retry: bool
    charged: bool

    def failure(self, *, detail: str = "", **params: ParamValue) -> Failure:
        return Failure(kind=self, params=params, detail=detail, charged=self.charged)


_KINDS: dict[str, FailureKind] = {}


def failure_kind(code: str, message: str | Promise, *, retry: bool, charged: bool) -> FailureKind:
    """Declare a failure code (once; declaring it again differently is a programming error)."""
    kind = FailureKind(code=code, message=message, retry=retry, charged=charged)
    existing = _KINDS.setdefault(code, kind)
    if existing is not kind and existing != kind:
        raise ValueError(f"failure code {code!r} is declared twice, differently")
    return existing


def failure_kind_alias(code: str, kind: FailureKind) -> None:
    """Keep an old stored code worded: it now reads (and retries) as `kind`."""
    existing = _KINDS.setdefault(code, kind)
    if existing is not kind:
        raise ValueError(f"failure code {code!r} is already declared")


def failure_kind_get(code: str) -> FailureKind | None:
    return _KINDS.get(code)


def failure_kinds() -> list[FailureKind]:
    """Every declared kind (of the modules imported so far), e.g. to render each in a test."""
    return list({kind.code: kind for kind in _KINDS.values()}.values())


# Rows recorded before failures had codes: their text is shown as it was stored.
LEGACY = failure_kind("legacy", "%(message)s", retry=True, charged=True)
UNKNOWN = failure_kind(
    "unknown",
    _("Une erreur inattendue est survenue. Si cela se reproduit, signalez-le à l’équipe."),
    retry=True,
    charged=False,
)


@dataclass(frozen=True)
class Failure:
    """One failure as it will be stored: kind, parameters, staff detail, quota charge."""

    kind: FailureKind
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    detail: str = ""
    # The kind's default, raised to True by a caller that knows some paid work was done.
    charged: bool = False

    @property
    def code(self) -> str:
        return self.kind.code

    def in_context(self, context: FailureKind, **params: ParamValue) -> Failure:
        """The same failure, introduced by the caller's sentence (e.g. which pages)."""
        return replace(self, params={**self.params, **params, CONTEXT_KEY: context.code})

    def with_charge(self, charged: bool) -> Failure:
        return replace(self, charged=self.charged or charged)

    @property
    def message(self) -> str:
        return failure_message(self.code, self.params)


class _Lenient(dict[str, Any]):
    # A parameter missing from an old row must not break the page that shows it.
    def __missing__(self, key: str) -> str:
        return "?"


def _format(kind: FailureKind, params: Mapping[str, Any]) -> str:
    return str(kind.message) % _Lenient(params)


def failure_message(code: str, params: Mapping[str, Any]) -> str:
    """The failure's sentence in the active language ("" when there is no code)."""
    if not code:
        return ""
    kind = _KINDS.get(code)
    if kind is None:
        logger.warning("failure code %r is not declared", code)
        kind = UNKNOWN
    text = _format(kind, params)
    context = _KINDS.get(str(params.get(CONTEXT_KEY, "")))
    if context is not None:
        text = f"{_format(context, params)} {text}"
    return text


class RecordedFailure(models.Model):
    """The fields a model needs to record a failure; `charged` is read by the daily quota."""

    error_code = models.CharField(_("code d’erreur"), max_length=64, blank=True)
    error_params = models.JSONField(_("paramètres de l’erreur"), default=dict, blank=True)
    # Raw upstream detail (status, body excerpt, exception) for staff and the logs only.
    error_detail = models.TextField(_("détail technique (équipe)"), blank=True)
    charged = models.BooleanField(
        _("compté dans le quota"),
        default=True,
        help_text=_("Faux pour un échec qui n’a rien coûté (rien n’a été fait en amont)."),
    )

    FAILURE_FIELDS = ("error_code", "error_params", "error_detail", "charged")

    class Meta:
        abstract = True

    @property
    @admin.display(description=_("message montré"))
    def error_message(self) -> str:
        """The failure in the reader's language (rendered now, not when it was recorded)."""
        return failure_message(self.error_code, self.error_params)

    @property
    def error_kind(self) -> FailureKind | None:
        return _KINDS.get(self.error_code) if self.error_code else None

    @property
    def error_retryable(self) -> bool:
        """Whether sending the same work again can succeed (True when nothing is recorded)."""
        kind = self.error_kind
        return kind is None or kind.retry

    def failure_set(self, failure: Failure) -> None:
        """Record `failure` on the instance (not saved: see FAILURE_FIELDS)."""
        self.error_code = failure.code
        self.error_params = dict(failure.params)
        self.error_detail = failure.detail
        self.charged = failure.charged

    def failure_clear(self) -> None:
        """Forget the last failure; the work is about to run again, so it counts again."""
        self.error_code = ""
        self.error_params = {}
        self.error_detail = ""
        self.charged = True
