"""The privacy notice's facts, read from the running configuration, never written by hand.

What a student is told about where their data goes must follow the backends the site really
uses: a change of CODEGEN_BACKEND or LATEXOCR_BACKEND changes the notice and the one line on
the pages where they send data, with nothing to remember.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Recipient:
    """Who receives which data of one tool, or nobody."""

    data: Promise
    recipient: str | Promise | None  # None: nothing leaves the site


def _model_server() -> str | Promise:
    host = urlsplit(settings.OPENAI_BASE_URL).hostname or ""
    if not host or "." not in host:
        # An in-cluster Service name (model-server): the university's own machine.
        return _("le serveur de modèles de l’université")
    return _("le serveur de modèles choisi par l’université (%(host)s)") % {"host": host}


def codegen_recipient() -> Recipient:
    data = _("vos questions de code")
    backend = settings.CODEGEN_BACKEND
    if backend == "gemini":
        return Recipient(data, _("Google (Gemini), dans le cadre de son offre payante"))
    if backend == "openai":
        return Recipient(data, _model_server())
    return Recipient(data, _("Make.com, qui les fait suivre au modèle de langage"))


def latexocr_recipient() -> Recipient:
    data = _("les pages des PDF que vous convertissez")
    backend = settings.LATEXOCR_BACKEND
    if backend == "gemini":
        return Recipient(data, _("Google (Gemini), dans le cadre de son offre payante"))
    if backend == "openai":
        return Recipient(data, _model_server())
    return Recipient(data, None)


def retention_days() -> dict[str, int]:
    return {
        "questions": settings.RETENTION_QUESTIONS_DAYS,
        "conversions": settings.RETENTION_CONVERSIONS_DAYS,
        "accounts": settings.RETENTION_INACTIVE_ACCOUNTS_DAYS,
        "login_records": settings.RETENTION_LOGIN_RECORDS_DAYS,
        "first_login": settings.RETENTION_FIRST_LOGIN_DAYS,
        "backups": settings.BACKUP_RETENTION_DAYS,
    }
