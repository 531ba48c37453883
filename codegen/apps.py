from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CodegenConfig(AppConfig):
    name = "codegen"
    verbose_name = _("Génération de code")
