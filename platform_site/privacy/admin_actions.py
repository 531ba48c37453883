"""Staff answer a student's access or erasure request from the roster (GDPR art. 15, 17).

The student admin belongs to `accounts`, which knows nothing of the tools; export and erasure
span every app, so the shell adds these two actions to it once the admin is loaded
(PlatformSiteConfig.ready).
"""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Student
from platform_site.privacy.account_data import account_erase, account_export_zip

logger = logging.getLogger(__name__)


@admin.action(description=gettext_lazy("Exporter toutes ses données (ZIP)"), permissions=["change"])
def export_student_data(
    model_admin: admin.ModelAdmin[Student], request: HttpRequest, queryset: QuerySet[Student]
) -> HttpResponse | None:
    if queryset.count() != 1:
        model_admin.message_user(
            request, _("Choisissez un seul étudiant pour exporter ses données."), messages.WARNING
        )
        return None
    student = queryset.select_related("user").get()
    logger.info(
        "staff exported a student's data staff=%s student=%s",
        request.user.get_username(),
        student.student_number,
    )
    response = HttpResponse(account_export_zip(user=student.user), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="donnees-{student.student_number}.zip"'
    return response


@admin.action(
    description=gettext_lazy("Effacer le compte et toutes ses données"), permissions=["delete"]
)
def erase_student_data(
    model_admin: admin.ModelAdmin[Student], request: HttpRequest, queryset: QuerySet[Student]
) -> HttpResponse | None:
    students = list(queryset.select_related("user"))
    if request.POST.get("confirm") != "yes":
        context = {
            **model_admin.admin_site.each_context(request),
            "title": _("Effacer ces comptes et toutes leurs données ?"),
            "students": students,
            "opts": model_admin.opts,
            "action": "erase_student_data",
        }
        return TemplateResponse(request, "admin/privacy/erase_confirm.html", context)
    for student in students:
        # Not the student: the log must not keep what the erasure removes.
        logger.info("staff erased a student's account staff=%s", request.user.get_username())
        account_erase(user=student.user)
    model_admin.message_user(
        request,
        _("%(count)s compte(s) et toutes leurs données ont été effacés.")
        % {"count": len(students)},
        messages.SUCCESS,
    )
    return None


def student_admin_actions_add() -> None:
    model_admin = admin.site.get_model_admin(Student)
    model_admin.actions = [*(model_admin.actions or ()), export_student_data, erase_student_data]
