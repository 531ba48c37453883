"""The upload form: the PDF is checked by content (pypdf), never by its name or extension."""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from latexocr.pdf import PdfInvalid, pdf_page_count


class UploadForm(forms.Form):
    pdf = forms.FileField(
        label=_("Fichier PDF"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )
    force = forms.BooleanField(
        label=_("Convertir à nouveau, même si ce PDF a déjà été converti"),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pdf"].help_text = _(
            "PDF de %(max_mb)d Mo et %(max_pages)d pages au plus, même manuscrit ou scanné."
        ) % {"max_mb": settings.LATEXOCR_MAX_UPLOAD_MB, "max_pages": settings.LATEXOCR_MAX_PAGES}
        self.pdf_bytes = b""
        self.page_count = 0

    def clean_pdf(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["pdf"]
        # The upload handler's in-memory buffer gives its bytes without a copy (a 20 MB PDF
        # is held once, not twice); any other file is read.
        buffer = getattr(upload, "file", None)
        data = buffer.getvalue() if isinstance(buffer, io.BytesIO) else upload.read()
        try:
            self.page_count = pdf_page_count(data, max_pages=settings.LATEXOCR_MAX_PAGES)
        except PdfInvalid as invalid:
            raise forms.ValidationError(str(invalid), code="invalid_pdf") from invalid
        self.pdf_bytes = data
        return upload
