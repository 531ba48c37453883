"""Admin for users and the student roster: import (preview, confirm), export, resets.

The import is a small admin view over accounts.services rather than django-import-export:
our flow creates two rows per student (User + Student) with an unusable password, must never
touch a password a student already chose, and must stay a handful of bulk queries for
thousands of rows; the management command shares the very same service.
"""

from __future__ import annotations

import datetime
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import RosterConfirmForm, RosterUploadForm
from accounts.models import Student, User
from accounts.roster.columns import COLUMN_LABELS, COLUMNS
from accounts.roster.importing import roster_sign
from accounts.roster.tables import ROSTER_MAX_ROWS
from accounts.selectors import student_roster_csv, student_roster_xlsx
from accounts.services import (
    StudentImportInvalid,
    student_import_apply_rows,
    student_import_preview,
    student_reset_first_login,
    student_update,
)

# The preview lists every error but only the first rows to create or update: a page of
# 5,000 table rows helps nobody and takes long to render.
PREVIEW_ROWS_SHOWN = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    actions = ["unlock"]

    @admin.action(description=gettext_lazy("Débloquer (effacer les échecs de connexion)"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = sum(axes_reset(username=user.get_username()) for user in queryset)
        self.message_user(request, _("%(count)s tentative(s) effacée(s).") % {"count": count})


class FirstLoginFilter(admin.SimpleListFilter):
    title = gettext_lazy("première connexion faite")
    parameter_name = "premiere_connexion"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("oui", gettext_lazy("Oui")), ("non", gettext_lazy("Non"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "oui":
            return queryset.filter(must_change_password=False)
        if self.value() == "non":
            return queryset.filter(must_change_password=True)
        return queryset


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin[Student]):
    list_display = [
        "student_number",
        "last_name",
        "first_name",
        # Who has logged in comes before the rest: it is what a teacher scans the list for,
        # and the table scrolls sideways beside the admin's sidebar.
        "first_login_done",
        "last_login",
        "birth_date",
        "email",
    ]
    list_filter = [FirstLoginFilter, ("user__last_login", admin.DateFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["student_number", "last_name", "first_name", "email"]
    # The student number is the username: changing it would cut the two apart.
    readonly_fields = ["user", "student_number", "must_change_password"]
    actions = ["reset_first_login", "export_csv", "export_xlsx", "unlock"]
    change_list_template = "admin/accounts/student/change_list.html"

    @admin.display(
        # Short: the column sits beside the admin's sidebar; the filter says it in full.
        description=gettext_lazy("1re connexion"),
        boolean=True,
        ordering="must_change_password",
    )
    def first_login_done(self, student: Student) -> bool:
        return not student.must_change_password

    @admin.display(
        description=gettext_lazy("dernière connexion"),
        ordering="user__last_login",
    )
    def last_login(self, student: Student) -> datetime.datetime | str:
        return student.user.last_login or _("jamais")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="accounts_student_import",
            ),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Students come with their account from the roster import, never one by one.
        return redirect("admin:accounts_student_import")

    def save_model(self, request: HttpRequest, obj: Student, form: Any, change: bool) -> None:
        student_update(student=obj)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Importer des étudiants"),
            "upload_form": RosterUploadForm(),
            "rows_shown": PREVIEW_ROWS_SHOWN,
            "column_labels": [COLUMN_LABELS[column] for column in COLUMNS],
            "max_rows": ROSTER_MAX_ROWS,
        }
        status = 200
        if request.method == "POST" and "confirm" in request.POST:
            confirm_form = RosterConfirmForm(request.POST)
            if confirm_form.is_valid():
                try:
                    result = student_import_apply_rows(
                        rows=confirm_form.cleaned_data["roster_rows"]
                    )
                except StudentImportInvalid as invalid:
                    context["errors"] = invalid.errors
                    status = 400
                else:
                    self.message_user(
                        request,
                        _(
                            "Import terminé : %(created)s créé(s), %(updated)s mis à jour, "
                            "%(unchanged)s inchangé(s)."
                        )
                        % {
                            "created": result.created,
                            "updated": result.updated,
                            "unchanged": result.unchanged,
                        },
                        messages.SUCCESS,
                    )
                    return redirect("admin:accounts_student_changelist")
            else:
                context["upload_form_errors"] = confirm_form.errors["roster_rows"]
                status = 400
        elif request.method == "POST":
            upload_form = RosterUploadForm(request.POST, request.FILES)
            context["upload_form"] = upload_form
            if upload_form.is_valid():
                preview = student_import_preview(
                    data=upload_form.cleaned_data["roster"],
                    encoding=upload_form.cleaned_data["encoding"],
                )
                context["preview"] = preview
                context["errors"] = preview.errors
                if preview.is_valid:
                    context["confirm_form"] = RosterConfirmForm(
                        initial={"roster_rows": roster_sign(rows=preview.rows)}
                    )
                else:
                    status = 400
            else:
                status = 400
        return TemplateResponse(
            request, "admin/accounts/student/import.html", context, status=status
        )

    @admin.action(description=gettext_lazy("Remettre en état de première connexion"))
    def reset_first_login(self, request: HttpRequest, queryset: QuerySet[Student]) -> None:
        count = student_reset_first_login(students=list(queryset))
        self.message_user(
            request,
            _(
                "%(count)s étudiant(s) remis en première connexion : "
                "mot de passe = date de naissance (JJMMAAAA)."
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=gettext_lazy("Exporter en CSV (avec les connexions)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Student]) -> HttpResponse:
        students = queryset.select_related("user").order_by("student_number")
        response = HttpResponse(
            student_roster_csv(students=students), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="etudiants.csv"'
        return response

    @admin.action(description=gettext_lazy("Exporter en XLSX (avec les connexions)"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Student]) -> HttpResponse:
        students = queryset.select_related("user").order_by("student_number")
        response = HttpResponse(student_roster_xlsx(students=students), content_type=XLSX_TYPE)
        response["Content-Disposition"] = 'attachment; filename="etudiants.xlsx"'
        return response

    @admin.action(description=gettext_lazy("Débloquer (effacer les échecs de connexion)"))
    def unlock(self, request: HttpRequest, queryset: QuerySet[Student]) -> None:
        count = sum(axes_reset(username=student.student_number) for student in queryset)
        self.message_user(request, _("%(count)s tentative(s) effacée(s).") % {"count": count})
