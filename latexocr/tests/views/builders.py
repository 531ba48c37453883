"""Conversions in the states the view tests need, and the requests they send."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from latexocr.models import Conversion, Version
from latexocr.tests.factories import ConversionFactory

UPLOAD = "/ocr/"


def pdf_file(data: bytes, name: str = "td1.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def post_upload(client: Client, data: bytes, run: Callable[..., Any], **extra: Any) -> Any:
    with run(execute=True):
        return client.post(UPLOAD, {"pdf": pdf_file(data), **extra})


FAKE_PDF = b"%PDF-1.4\n% a compiled document\n%%EOF\n"


ORIGINAL_ERRORS = [
    {"line": 5, "message": "Commande inconnue : \\mathbb (il manque \\usepackage{amssymb})."}
]


def compiled_conversion(owner: User, **fields: Any) -> Conversion:
    values: dict[str, Any] = {
        "owner": owner,
        "status": "done",
        "latex": "\\documentclass{article} % original",
        "compile_status": Version.CompileStatus.COMPILES,
        "compiled_version": "original",
        "compiled_pdf": FAKE_PDF,
        "compiled_page_count": 2,
        **fields,
    }
    return ConversionFactory.create(**values)


def repaired_conversion(owner: User) -> Conversion:
    return compiled_conversion(
        owner,
        latex_repaired="\\documentclass{article} % repaired",
        compiled_version="repaired",
        compile_errors=ORIGINAL_ERRORS,
    )


LATEX = "\\documentclass{article}\n\\begin{document}\nBonjour\n\\end{document}\n"


def reviewed(owner: User, **version_fields: Any) -> Conversion:
    """A done conversion whose version 1 compiles (unless told otherwise)."""
    conversion = ConversionFactory.create(owner=owner, status="done", latex=LATEX)
    fields: dict[str, Any] = {
        "compile_status": Version.CompileStatus.COMPILES,
        "compiled_pdf": FAKE_PDF,
        "compiled_page_count": 1,
        **version_fields,
    }
    Version.objects.create(
        conversion=conversion, number=1, origin="original", latex=LATEX, **fields
    )
    return conversion


def edit(client: Client, conversion: Conversion, latex: str) -> Any:
    # Multipart, as the page's form sends it (enctype="multipart/form-data").
    return client.post(reverse("latexocr:edit", args=[conversion.pk]), {"latex": latex})
