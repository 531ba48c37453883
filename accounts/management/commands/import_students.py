"""`manage.py import_students FILE [--dry-run] [--encoding ENC]`: the admin's roster import,
from a shell, accepting exactly the same files (CSV/TSV, .xlsx, .ods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roster.files import ENCODINGS
from accounts.roster.tables import ROSTER_MAX_BYTES
from accounts.roster.validation import RosterError
from accounts.services import (
    StudentImportInvalid,
    student_import_apply_rows,
    student_import_preview,
)

# In the site's language (LANGUAGE_CODE), like the roster's own messages the command prints.
HELP = gettext_lazy(
    "Importe une liste d’étudiants : CSV ou TSV (UTF-8 avec ou sans BOM, Windows-1252 ou "
    "Latin-1, détecté ; séparateur « ; », « , » ou tabulation, détecté), classeur Excel "
    ".xlsx ou LibreOffice .ods (première feuille). En-têtes en français ou en anglais "
    "(N° étudiant/student_number, Nom/last_name, Prénom/first_name, Date de "
    "naissance/birth_date, E-mail/email) ; les autres colonnes sont ignorées. Tout ou "
    "rien ; réimporter le même fichier ne change rien ; un mot de passe déjà choisi par "
    "un étudiant n’est jamais réinitialisé."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs a str, not a lazy translation.
        self.help = str(HELP)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=_("Chemin du fichier de la liste."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Affiche ce qui serait créé et mis à jour, sans rien écrire."),
        )
        parser.add_argument(
            "--encoding",
            choices=sorted(ENCODINGS),
            default=None,
            help=_("Encodage d’un fichier CSV/TSV (par défaut : détecté)."),
        )

    def handle(
        self, *args: Any, file: Path, dry_run: bool, encoding: str | None, **options: Any
    ) -> None:
        try:
            if file.stat().st_size > ROSTER_MAX_BYTES:
                raise CommandError(
                    _("%(file)s dépasse %(max)s Mo : refusé.")
                    % {"file": file, "max": ROSTER_MAX_BYTES // (1024 * 1024)}
                )
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Impossible de lire %(file)s : %(reason)s")
                % {"file": file, "reason": error.strerror}
            ) from error

        preview = student_import_preview(data=data, encoding=encoding)
        if preview.description:
            self.stdout.write(_("Lu : %(description)s") % {"description": preview.description})
        if preview.ignored:
            self.stdout.write(
                _("Colonnes ignorées : %(columns)s") % {"columns": ", ".join(preview.ignored)}
            )
        if not preview.is_valid:
            self._fail(preview.errors)
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Essai, rien n’est écrit : %(created)s à créer, %(updated)s à mettre à "
                        "jour, %(unchanged)s inchangé(s)."
                    )
                    % {
                        "created": len(preview.to_create),
                        "updated": len(preview.to_update),
                        "unchanged": len(preview.unchanged),
                    }
                )
            )
            return

        # One transaction, re-checked against the database: any error leaves it as it was.
        try:
            result = student_import_apply_rows(rows=preview.rows)
        except StudentImportInvalid as invalid:
            self._fail(invalid.errors)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Importé : %(created)s créé(s), %(updated)s mis à jour, %(unchanged)s "
                    "inchangé(s)."
                )
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
            )
        )

    def _fail(self, errors: list[RosterError]) -> None:
        for error in errors:
            self.stderr.write(self.style.ERROR(str(error)))
        raise CommandError(
            _("%(count)s erreur(s) : rien n’a été importé.") % {"count": len(errors)}
        )
