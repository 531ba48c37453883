"""What several of the tool's views share: the file names they serve, the PDF frame's policy,
the student's sentence for an engine that cannot run."""

from __future__ import annotations

from pathlib import PurePath

from django.utils.csp import CSP
from django.utils.text import slugify
from django.utils.translation import gettext as _

from latexocr.models import Conversion

OVERLEAF_DOCS_URL = "https://www.overleaf.com/docs"
# The compiled PDF is shown in an <iframe> of its own page. Browsers' PDF viewers are plugin
# documents, which the site-wide `object-src 'none'` would block; nothing else may load.
PDF_CSP = {
    "default-src": [CSP.NONE],
    "object-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
}


def download_filename(conversion: Conversion, suffix: str) -> str:
    # Built by us: the user's file name only contributes a slug, never a path or a quote.
    stem = slugify(PurePath(conversion.original_filename).stem)[:60] or "conversion"
    return f"{stem}-{str(conversion.pk)[:8]}{suffix}"


def unavailable_message() -> str:
    # The student's sentence; staff also see the setting to change (never students).
    return _(
        "La conversion de PDF n’est pas encore disponible sur ce site ; prévenez votre enseignant."
    )
