"""A student's own data: all of it as one ZIP (GDPR art. 15 and 20), or all of it erased (art. 17).

Both span every app, so they live in the shell, which may import them all. The ZIP opens with
any unzip tool: JSON for the records, the PDFs and LaTeX as the files they are.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import IO, Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Student, User
from codegen.models import Question
from latexocr.conversions.storage import pdf_chunks
from latexocr.models import Conversion, RepairRequest, Version
from platform_site.models import AccountExport, StaffAccess

SESSION_BATCH = 1000

ACCOUNT_FIELDS = ("username", "first_name", "last_name", "email", "date_joined", "last_login")
STUDENT_FIELDS = ("student_number", "last_name", "first_name", "birth_date", "email")
QUESTION_FIELDS = (
    "id", "message", "status", "backend", "reply", "code", "explanation", "created_at",
    "finished_at",
)  # fmt: skip
CONVERSION_FIELDS = (
    "id", "original_filename", "size_bytes", "page_count", "sha256", "backend", "status",
    "latex", "created_at", "finished_at",
)  # fmt: skip
VERSION_FIELDS = ("number", "origin", "restored_from", "created_at", "compile_status")


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _record(instance: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def account_export_zip(*, user: User) -> bytes:
    """The export in memory: for an account below PRIVACY_EXPORT_INLINE_MAX_MB, or staff."""
    buffer = io.BytesIO()
    account_export_write(user=user, file=buffer)
    return buffer.getvalue()


def account_export_write(*, user: User, file: IO[bytes]) -> None:
    """Every record of the user, with their original PDFs and every LaTeX version, as a ZIP.

    Written to `file` (seekable) entry by entry: into a temporary file on disk, a large export
    never sits whole in memory.
    """
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        account = _record(user, ACCOUNT_FIELDS)
        student = Student.objects.filter(user=user).first()
        account["student"] = _record(student, STUDENT_FIELDS) if student else None
        account["exported_at"] = timezone.now()
        archive.writestr("account.json", _dumps(account))
        questions = [
            _record(question, QUESTION_FIELDS)
            for question in Question.objects.filter(user=user).order_by("created_at")
        ]
        archive.writestr("questions.json", _dumps(questions))
        readings = StaffAccess.objects.filter(owner=user).order_by("at")
        archive.writestr(
            "staff_access.json",
            _dumps(list(readings.values("staff_username", "kind", "object_id", "at"))),
        )
        for conversion in Conversion.objects.filter(owner=user).order_by("created_at"):
            folder = f"conversions/{conversion.pk}"
            versions = list(conversion.versions.order_by("number"))
            record = _record(conversion, CONVERSION_FIELDS)
            record["versions"] = [_record(version, VERSION_FIELDS) for version in versions]
            record["repair_requests"] = list(
                RepairRequest.objects.filter(conversion=conversion).values(
                    "source_number", "status", "result_number", "created_at"
                )
            )
            archive.writestr(f"{folder}/conversion.json", _dumps(record))
            # Chunk by chunk, as stored: never the whole upload in one query.
            with archive.open(f"{folder}/original.pdf", "w") as original:
                for chunk in pdf_chunks(conversion_id=conversion.pk):
                    original.write(chunk)
            for version in versions:
                archive.writestr(f"{folder}/versions/{version.number}.tex", version.latex)
                if version.compiled_pdf is not None:
                    archive.writestr(
                        f"{folder}/versions/{version.number}.pdf", bytes(version.compiled_pdf)
                    )


def _user_sessions(user: User) -> list[str]:
    """The keys of the sessions signed in as the user (the id is inside the encoded data)."""
    keys = []
    sessions = Session.objects.filter(expire_date__gte=timezone.now()).order_by("pk")
    for session in sessions.iterator(chunk_size=SESSION_BATCH):
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            keys.append(session.pk)
    return keys


@transaction.atomic
def account_erase(*, user: User) -> None:
    """Delete the account and every row that names it or belongs to it.

    The foreign keys take the roster entry (with the birth date), questions, conversions with
    their PDF chunks, versions and repair requests. What names the user without a foreign
    key is deleted here: sessions, lockout records (by username), the admin's log lines about
    the account, and queued tasks of their conversions and exports (the exports themselves,
    with their chunks, go by the foreign key).
    """
    owned_ids = [
        str(pk) for pk in Conversion.objects.filter(owner=user).values_list("pk", flat=True)
    ] + [str(pk) for pk in AccountExport.objects.filter(owner=user).values_list("pk", flat=True)]
    version_ids = list(Version.objects.filter(conversion__owner=user).values_list("pk", flat=True))
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=user.get_username()).delete()
    Session.objects.filter(pk__in=_user_sessions(user)).delete()
    student = Student.objects.filter(user=user).first()
    for model, pk in ((User, user.pk), (Student, student.pk if student else None)):
        if pk is not None:
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id=str(pk)
            ).delete()
    for task in DBTaskResult.objects.all().only("pk", "args_kwargs").iterator():
        arguments = json.dumps(task.args_kwargs)
        if any(pk in arguments for pk in owned_ids) or (
            "version_id" in arguments
            and task.args_kwargs.get("kwargs", {}).get("version_id") in version_ids
        ):
            task.delete()
    user.delete()
