from __future__ import annotations

import hashlib
import io
from importlib import import_module
from typing import Any

import factory

from accounts.tests.factories import UserFactory
from latexocr.conversions.storage import pdf_store
from latexocr.models import Conversion, Version
from tests.pdfs import blank_pdf

_migration = import_module("latexocr.migrations.0011_versions_hold_the_compile")
CHECK_FIELDS: tuple[str, ...] = _migration.CHECK_FIELDS
versions_from_check: Any = _migration.versions_from_check


class ConversionFactory(factory.django.DjangoModelFactory[Conversion]):
    class Meta:
        model = Conversion

    owner = factory.SubFactory(UserFactory)
    original_filename = "td1.pdf"
    pdf = factory.LazyFunction(lambda: blank_pdf(2))
    size_bytes = factory.LazyAttribute(lambda o: len(o.pdf))
    page_count = 2
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.pdf).hexdigest())
    backend = Conversion.Backend.GEMINI
    model = "gemini-3.8-flash"
    status = Conversion.Status.QUEUED

    @classmethod
    def _create(cls, model_class: type[Conversion], *args: object, **kwargs: object) -> Conversion:
        # The PDF is not a column: it goes to its chunks once the conversion exists.
        pdf = kwargs.pop("pdf")
        assert isinstance(pdf, bytes)
        # The compile check, as the check reports it, becomes versions 1 and 2 (as the worker
        # records it, and as migration 0011 copied the check conversions used to keep).
        check = {name: kwargs.pop(name) for name in CHECK_FIELDS if name in kwargs}
        conversion = super()._create(model_class, *args, **kwargs)
        pdf_store(conversion=conversion, pdf=io.BytesIO(pdf))
        if check:
            _create_versions(conversion, check)
        return conversion


def _create_versions(conversion: Conversion, check: dict[str, Any]) -> None:
    for fields in versions_from_check(latex=conversion.latex, check=check):
        Version.objects.create(conversion=conversion, **fields)


def with_versions(conversion: Conversion) -> Conversion:
    """Give a done conversion made without a compile check its version 1 (not checked)."""
    _create_versions(conversion, {})
    return conversion
