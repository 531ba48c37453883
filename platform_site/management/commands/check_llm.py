"""Check every configured model backend in one step: its models, and a one-line answer.

For an operator after a set-up or a change (`/readyz` is about the database only): for each
tool, the backend it uses now (CODEGEN_BACKEND, LATEXOCR_BACKEND) — an OpenAI-compatible server
lists its models (and must offer the one configured) and answers a one-line question; Gemini
answers one; the Make.com webhook answers one (a real scenario run); the local OCR backend
needs nothing. Nothing is saved and no quota applies. Exits 1 when any check fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from platform_site.llm import gemini, openai_client, webhook

PROMPT = "Réponds en une seule ligne : quelle est la capitale de la France ?"


@dataclass(frozen=True)
class Check:
    tool: str
    backend: str
    model: str


class Command(BaseCommand):
    help = "Asks each configured model backend for its models and a one-line answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds allowed to each call (60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        timeout_s: float = options["timeout"]
        checks = [
            Check("codegen", settings.CODEGEN_BACKEND, _codegen_model()),
            Check("latexocr", settings.LATEXOCR_BACKEND, _latexocr_model()),
        ]
        failures = 0
        listed: set[str] = set()
        for check in checks:
            label = f"{check.tool}: {check.backend}" + (f" ({check.model})" if check.model else "")
            try:
                detail = self._run(check, timeout_s, listed)
            except (
                openai_client.ModelServerError,
                gemini.GeminiError,
                webhook.WebhookError,
                _Missing,
            ) as error:
                failures += 1
                self.stdout.write(self.style.ERROR(f"FAIL {label}: {error!r}"))
                continue
            self.stdout.write(self.style.SUCCESS(f"ok   {label}: {detail}"))
        if failures:
            raise CommandError(f"{failures} check(s) failed.")

    def _run(self, check: Check, timeout_s: float, listed: set[str]) -> str:
        started = time.monotonic()
        if check.backend == "local":
            return "the PDF's text layer, no model to ask"
        if check.backend == "openai":
            if not openai_client.configured(model=check.model):
                raise _Missing("OPENAI_BASE_URL or the tool's *_OPENAI_MODEL is not set")
            models = openai_client.models_list(timeout_s=timeout_s)
            if settings.OPENAI_BASE_URL not in listed:
                listed.add(settings.OPENAI_BASE_URL)
                self.stdout.write(f"     {settings.OPENAI_BASE_URL} offers: {', '.join(models)}")
            if check.model not in models:
                raise _Missing(f"the server does not offer {check.model!r}")
            text = openai_client.chat(model=check.model, prompt=PROMPT, timeout_s=timeout_s).text
        elif check.backend == "gemini":
            text = gemini.generate(model=check.model, prompt=PROMPT, timeout_s=timeout_s).text
        else:
            text = webhook.send(message=PROMPT)
        line = " ".join(text.split())[:120]
        return f"{line!r} in {time.monotonic() - started:.1f} s"


class _Missing(Exception):
    """A set-up fault found before (or instead of) a call."""


def _codegen_model() -> str:
    return {
        "openai": settings.CODEGEN_OPENAI_MODEL,
        "gemini": settings.CODEGEN_GEMINI_MODEL,
    }.get(settings.CODEGEN_BACKEND, "")


def _latexocr_model() -> str:
    return {
        "openai": settings.LATEXOCR_OPENAI_MODEL,
        "gemini": settings.LATEXOCR_GEMINI_MODEL,
    }.get(settings.LATEXOCR_BACKEND, "")
