"""Record staff opening a student's question or conversion in the admin (platform_site.models).

The admins belong to codegen and latexocr; the shell wraps their change views once the admin is
loaded (PlatformSiteConfig.ready), so neither app knows of the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse

from codegen.models import Question
from latexocr.models import Conversion
from platform_site.models import StaffAccess

# model -> (kind recorded, the field holding the student)
WATCHED: dict[type[models.Model], tuple[str, str]] = {
    Question: ("question", "user_id"),
    Conversion: ("conversion", "owner_id"),
}


def _recording(
    change_view: Callable[..., HttpResponse], model: type[models.Model]
) -> Callable[..., HttpResponse]:
    kind, owner_field = WATCHED[model]

    def change_view_recorded(
        request: HttpRequest, object_id: str, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = change_view(request, object_id, *args, **kwargs)
        if response.status_code == 200:
            owner_id = (
                model._default_manager.filter(pk=object_id)
                .values_list(owner_field, flat=True)
                .first()
            )
            if owner_id is not None and owner_id != request.user.pk:
                StaffAccess.objects.create(
                    staff_id=request.user.pk,
                    staff_username=request.user.get_username(),
                    owner_id=owner_id,
                    kind=kind,
                    object_id=str(object_id),
                )
        return response

    return change_view_recorded


def staff_access_recording_add() -> None:
    for model in WATCHED:
        model_admin = admin.site.get_model_admin(model)
        model_admin.change_view = _recording(model_admin.change_view, model)  # type: ignore[method-assign]
