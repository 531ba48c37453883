"""Ask the configured LLM backend one question and print the code and the explanation.

For an admin checking the backend (URL, key, Make scenario, Gemini model) from a shell:
nothing is saved and no user quota applies.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from codegen import backends
from codegen.parser import reply_parse
from codegen.rendering import syntax_check
from platform_site.llm.errors import LlmError


class Command(BaseCommand):
    help = "Pose une question au moteur configuré (CODEGEN_BACKEND) et affiche code et explication."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("message", help="la question, comme un étudiant la poserait")
        parser.add_argument(
            "--raw", action="store_true", help="afficher aussi la réponse brute du modèle"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        message = options["message"].strip()
        if not message:
            raise CommandError("La question est vide.")
        backend = settings.CODEGEN_BACKEND
        try:
            reply = backends.reply_fetch(backend=backend, message=message)
        except LlmError as error:
            # An operator's command: the failure's sentence and the upstream detail behind it.
            failure = error.failure
            raise CommandError(f"{backend}: {failure.message} ({failure.detail})") from error
        parsed = reply_parse(reply)
        if options["raw"]:
            self.stdout.write(self.style.MIGRATE_HEADING("Réponse brute"))
            self.stdout.write(reply)
        self.stdout.write(self.style.MIGRATE_HEADING("Code"))
        self.stdout.write(parsed.code or self.style.WARNING("(aucun bloc de code)"))
        syntax = syntax_check(parsed.code)
        if parsed.code and not syntax.valid:
            self.stdout.write(
                self.style.WARNING(f"Erreur de syntaxe ligne {syntax.line} : {syntax.message}")
            )
        self.stdout.write(self.style.MIGRATE_HEADING("Explication"))
        self.stdout.write(parsed.explanation)
        self.stdout.write(self.style.SUCCESS(f"Réponse obtenue par le moteur « {backend} »."))
