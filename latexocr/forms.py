"""The upload form: the PDF is checked by content (pypdf), never by its name or extension."""

from __future__ import annotations

import hashlib
from typing import IO, Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from latexocr.engines.pdf import PdfInvalid, pdf_page_count


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
        self.fields["pdf"].help_text = _("PDF de %(max_mb)d Mo et %(max_pages)d pages au plus.") % {
            "max_mb": settings.LATEXOCR_MAX_UPLOAD_MB,
            "max_pages": settings.LATEXOCR_MAX_PAGES,
        }
        self.page_count = 0
        self.sha256 = ""

    def clean_pdf(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["pdf"]
        # Checked from the upload's (spooled) file: pypdf reads what it needs, the PDF is
        # never read whole into memory here (docs/performance.md).
        try:
            self.page_count = pdf_page_count(
                cast(IO[bytes], upload), max_pages=settings.LATEXOCR_MAX_PAGES
            )
        except PdfInvalid as invalid:
            raise forms.ValidationError(str(invalid), code="invalid_pdf") from invalid
        self.sha256 = getattr(upload, "sha256", "") or _sha256(upload)
        upload.seek(0)
        return upload


def _sha256(upload: UploadedFile) -> str:
    """The SHA-256 of a file another upload handler gave, read chunk by chunk."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()
