"""A read-only list of conversions for staff: status, owner, pages, tokens, duration, compile.

Read-only because every change goes through the services (and their guarded transitions);
the PDFs and the LaTeX are not shown: they are the student's work, not the admin's business.
The compile results of each version (errors, log excerpt) are, to see what the models get
wrong; the list shows the current version's.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from latexocr.conversions.selectors import conversion_with_current_compile
from latexocr.models import Conversion, Version


class CurrentCompileFilter(admin.SimpleListFilter):
    title = _("compilation")
    parameter_name = "compile_status"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Conversion]
    ) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in Version.CompileStatus.choices]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Conversion]
    ) -> QuerySet[Conversion]:
        value = self.value()
        # An annotation (conversion_with_current_compile), unknown to the model's type.
        return queryset.filter(**{"current_compile_status": value}) if value else queryset


class VersionInline(admin.TabularInline[Version, Conversion]):
    model = Version
    fields = (
        "number",
        "origin",
        "compile_status",
        "compile_skipped_reason",
        "compiled_page_count",
        "compile_duration_s",
        "compile_errors",
        "compile_log_excerpt",
        "compiled_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Version]:
        return super().get_queryset(request).defer("latex", "compiled_pdf")

    def has_add_permission(self, request: HttpRequest, obj: Conversion | None = None) -> bool:
        return False


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin[Conversion]):
    list_display = [
        "original_filename",
        "owner",
        "status",
        "current_compile",
        "backend",
        "page_count",
        "attempts",
        "gemini_calls",
        "input_tokens",
        "output_tokens",
        "duration",
        "created_at",
    ]
    list_filter = ["status", CurrentCompileFilter, "backend", "model"]
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
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = [VersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Conversion]:
        return conversion_with_current_compile(super().get_queryset(request).defer("latex"))

    @admin.display(description=_("compilation"), ordering="current_compile_status")
    def current_compile(self, conversion: Conversion) -> str:
        return conversion.current_compile_status_display

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
