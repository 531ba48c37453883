"""A read-only list of conversions for staff: status, owner, pages, tokens, duration, compile.

Read-only because every change goes through the services (and their guarded transitions);
the PDFs and the LaTeX are not shown: they are the student's work, not the admin's business.
The compile check's findings (errors, log excerpt) are, to see what the models get wrong.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from latexocr.models import Conversion


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin[Conversion]):
    list_display = [
        "original_filename",
        "owner",
        "status",
        "compile_status",
        "backend",
        "page_count",
        "attempts",
        "gemini_calls",
        "input_tokens",
        "output_tokens",
        "duration",
        "created_at",
    ]
    list_filter = ["status", "compile_status", "compiled_version", "backend", "model"]
    list_select_related = ["owner"]
    search_fields = ["original_filename", "owner__username", "sha256"]
    date_hierarchy = "created_at"
    fields = (
        "id",
        "owner",
        "original_filename",
        "size_bytes",
        "page_count",
        "sha256",
        "backend",
        "model",
        "status",
        "pages_done",
        "attempts",
        "error_message",
        "error_code",
        "error_params",
        "error_detail",
        "charged",
        "gemini_calls",
        "input_tokens",
        "output_tokens",
        "compile_status",
        "compile_skipped_reason",
        "compiled_version",
        "compiled_page_count",
        "compile_duration_s",
        "compile_errors",
        "repair_error",
        "repaired_compile_errors",
        "compile_log_excerpt",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversion]:
        return super().get_queryset(request).defer("latex", "latex_repaired", "compiled_pdf")

    @admin.display(description=_("durée (s)"))
    def duration(self, conversion: Conversion) -> str:
        seconds = conversion.duration_s
        return "" if seconds is None else f"{seconds:.1f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Conversion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Conversion | None = None) -> bool:
        return False
