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

from platform_site.llm.errors import LlmError
from platform_site.llm.providers import Provider
from platform_site.llm.registry import backend_name, provider_for

PROMPT = "Réponds en une seule ligne : quelle est la capitale de la France ?"


@dataclass(frozen=True)
class Check:
    tool: str
    backend: str
    # None: the backend is not a model (latexocr's local engine).
    provider: Provider | None


class Command(BaseCommand):
    help = "Asks each configured model backend for its models and a one-line answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds allowed to each call (60)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        timeout_s: float = options["timeout"]
        checks = [
            Check(tool, backend_name(tool), provider_for(tool)) for tool in ("codegen", "latexocr")
        ]
        failures = 0
        listed: set[str] = set()
        for check in checks:
            model = check.provider.model if check.provider else ""
            label = f"{check.tool}: {check.backend}" + (f" ({model})" if model else "")
            try:
                detail = self._run(check, timeout_s, listed)
            except (LlmError, _Missing) as error:
                failures += 1
                self.stdout.write(self.style.ERROR(f"FAIL {label}: {error!r}"))
                continue
            self.stdout.write(self.style.SUCCESS(f"ok   {label}: {detail}"))
        if failures:
            raise CommandError(f"{failures} check(s) failed.")

    def _run(self, check: Check, timeout_s: float, listed: set[str]) -> str:
        started = time.monotonic()
        provider = check.provider
        if provider is None:
            return "the PDF's text layer, no model to ask"
        if not provider.configured():
            raise _Missing(f"{provider.missing_setting()} not set")
        models = provider.models_offered(timeout_s=timeout_s)
        if models is not None:
            if settings.OPENAI_BASE_URL not in listed:
                listed.add(settings.OPENAI_BASE_URL)
                self.stdout.write(f"     {settings.OPENAI_BASE_URL} offers: {', '.join(models)}")
            if provider.model not in models:
                raise _Missing(f"the server does not offer {provider.model!r}")
        text = provider.with_time_limit(timeout_s).complete(prompt=PROMPT).text
        line = " ".join(text.split())[:120]
        return f"{line!r} in {time.monotonic() - started:.1f} s"


class _Missing(Exception):
    """A set-up fault found before (or instead of) a call."""
