from __future__ import annotations

import hashlib
import io
from importlib import import_module

import factory

from accounts.tests.factories import UserFactory
from latexocr.conversions.storage import pdf_store
from latexocr.models import Conversion
from tests.pdfs import blank_pdf


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
        conversion = super()._create(model_class, *args, **kwargs)
        pdf_store(conversion=conversion, pdf=io.BytesIO(pdf))
        return conversion


def with_versions(conversion: Conversion) -> Conversion:
    """Give a done conversion made by the factory its versions, as the migration would."""
    from django.apps import apps

    backfill = import_module("latexocr.migrations.0004_versions").backfill_versions
    backfill(apps, None)
    return conversion
