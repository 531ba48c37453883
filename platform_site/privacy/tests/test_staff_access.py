from __future__ import annotations

import datetime
import io
import json
import zipfile
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from codegen.tests.factories import AnsweredQuestionFactory
from latexocr.tests.factories import ConversionFactory
from platform_site.models import StaffAccess
from platform_site.privacy.retention import expired_purge

pytestmark = pytest.mark.django_db


def test_staff_opening_a_students_question_or_conversion_is_recorded(logged_in: Client) -> None:
    student = UserFactory.create()
    question = AnsweredQuestionFactory.create(user=student)
    conversion = ConversionFactory.create(owner=student)
    staff = Client()
    staff.force_login(UserFactory.create(username="prof", is_staff=True, is_superuser=True))

    assert staff.get(f"/admin/codegen/question/{question.pk}/change/").status_code == 200
    assert staff.get(f"/admin/latexocr/conversion/{conversion.pk}/change/").status_code == 200
    staff.get("/admin/codegen/question/")  # a list shows no content: not recorded

    records = list(StaffAccess.objects.order_by("at").values("staff_username", "kind", "owner"))
    assert records == [
        {"staff_username": "prof", "kind": "question", "owner": student.pk},
        {"staff_username": "prof", "kind": "conversion", "owner": student.pk},
    ]


def test_the_record_is_in_the_students_export_and_ages_out(settings: Any) -> None:
    settings.RETENTION_STAFF_ACCESS_DAYS = 365
    student = UserFactory.create()
    old, young = (
        StaffAccess.objects.create(
            staff_username="prof", owner=student, kind="question", object_id=str(n)
        )
        for n in (1, 2)
    )
    now = timezone.now()
    StaffAccess.objects.filter(pk=old.pk).update(at=now - datetime.timedelta(days=365, seconds=1))
    StaffAccess.objects.filter(pk=young.pk).update(at=now - datetime.timedelta(days=365))
    client = Client()
    client.force_login(student)

    archive = zipfile.ZipFile(io.BytesIO(client.get("/privacy/my-data/export/").content))
    assert len(json.loads(archive.read("staff_access.json"))) == 2

    assert expired_purge(now=now)["staff access records"] == 1
    assert list(StaffAccess.objects.values_list("pk", flat=True)) == [young.pk]
