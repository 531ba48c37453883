from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LatexocrConfig(AppConfig):
    name = "latexocr"
    verbose_name = _("LaTeX OCR")
