"""Finished conversions in the states the review's tests need."""

from __future__ import annotations

from accounts.models import User
from latexocr.models import Conversion, Version
from latexocr.tests.factories import ConversionFactory
from latexocr.tests.texlive import BROKEN_DOCUMENT, tex_document

GOOD_DOCUMENT = tex_document("Exercice 1 : $x^2$.")


def done_conversion(owner: User, latex: str = GOOD_DOCUMENT) -> Conversion:
    """A finished conversion with its version 1 (not compiled: no engine in unit tests)."""
    conversion = ConversionFactory.create(owner=owner, status=Conversion.Status.DONE, latex=latex)
    Version.objects.create(
        conversion=conversion,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=latex,
        compile_status=Version.CompileStatus.SKIPPED,
    )
    return conversion


def failing_conversion(user: User) -> Conversion:
    conversion = done_conversion(user, latex=BROKEN_DOCUMENT)
    Version.objects.filter(conversion=conversion).update(
        compile_status=Version.CompileStatus.FAILS,
        compile_errors=[{"line": 5, "message": "Commande inconnue : \\mathbb"}],
    )
    return conversion
