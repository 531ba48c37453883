"""Convert one PDF in the foreground, without a user or a queue (try-outs, support, scripts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from latexocr.engines import backends
from latexocr.engines.backends import ConversionFailed
from latexocr.engines.pdf import PdfInvalid, pdf_page_count


class Command(BaseCommand):
    help = "Convert a PDF to LaTeX in the foreground; print the LaTeX or write it to -o."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The PDF to convert.")
        parser.add_argument("-o", "--output", type=Path, help="Write the LaTeX to this file.")
        parser.add_argument(
            "--backend",
            choices=["gemini", "local", "openai"],
            default=None,
            help="Default: LATEXOCR_BACKEND.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            pdf = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        try:
            page_count = pdf_page_count(pdf, max_pages=settings.LATEXOCR_MAX_PAGES)
        except PdfInvalid as invalid:
            raise CommandError(str(invalid)) from invalid

        backend = options["backend"] or settings.LATEXOCR_BACKEND

        def progress(done: int) -> None:
            self.stderr.write(f"{done}/{page_count} pages")

        try:
            model, _prompt = backends.model_and_prompt(backend=backend, page_count=page_count)
            result = backends.convert(
                backend=backend, pdf=pdf, page_count=page_count, model=model, on_progress=progress
            )
        except ConversionFailed as failed:
            failure = failed.failure
            raise CommandError(f"{failure.message} ({failure.detail or failure.code})") from failed

        if options["output"]:
            options["output"].write_text(result.latex, encoding="utf-8")
            self.stderr.write(
                self.style.SUCCESS(
                    f"{page_count} page(s) -> {options['output']}"
                    f" ({result.gemini_calls} model call(s), tokens in/out:"
                    f" {result.input_tokens}/{result.output_tokens})"
                )
            )
        else:
            self.stdout.write(result.latex, ending="")
