from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from codegen.models import Question


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin[Question]):
    list_display = ("__str__", "user", "backend", "status", "latency_ms", "created_at")
    list_filter = ("status", "backend", ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("message", "user__username")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    # A record of what was asked and answered: read, never rewritten by hand.
    readonly_fields = (
        "user", "message", "backend", "status", "reply", "code", "explanation",
        "error_message", "error_code", "error_params", "error_detail", "charged", "latency_ms",
        "attempts", "created_at", "sent_at", "finished_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Question | None = None) -> bool:
        return False
