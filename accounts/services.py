"""Writes of the accounts app: registration, password change, the roster import."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RegistrationAttempt, Student, User
from accounts.roster.columns import COLUMN_LABELS
from accounts.roster.importing import roster_parse
from accounts.roster.validation import FILE_LINE, RosterError, RosterRow

logger = logging.getLogger(__name__)

BULK_BATCH_SIZE = 1000
STUDENT_FIELDS = ("last_name", "first_name", "birth_date", "email")
USER_FIELDS = ("last_name", "first_name", "email")


class UsernameTaken(Exception):
    """Raised when the username was taken between the form's check and the insert."""


class TooManyRegistrations(Exception):
    """This address sent ACCOUNTS_REGISTRATIONS_PER_HOUR sign-up forms in the last hour."""


def registration_attempt_record(*, ip_address: str) -> None:
    """Count one sign-up form from `ip_address`, or raise TooManyRegistrations.

    Every form counts, failed ones included: what the limit stops is probing which student
    numbers exist (a taken username answers 409) at machine speed.
    """
    limit = settings.ACCOUNTS_REGISTRATIONS_PER_HOUR
    if limit <= 0:
        return
    hour_ago = timezone.now() - timedelta(hours=1)
    RegistrationAttempt.objects.filter(created_at__lt=hour_ago).delete()
    recent = RegistrationAttempt.objects.filter(ip_address=ip_address, created_at__gte=hour_ago)
    if recent.count() >= limit:
        raise TooManyRegistrations
    RegistrationAttempt.objects.create(ip_address=ip_address)


def user_register(*, username: str, password: str) -> User:
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError as error:
        raise UsernameTaken(username) from error
    logger.info("account registered username=%s", username)
    return user


@transaction.atomic
def user_password_change(*, user: User, password: str) -> None:
    """Set a new password; the old one (or the birth date) stops working at once.

    Changing the password changes the session auth hash, so every other session of the user
    is refused on its next request; the caller keeps the current one with
    update_session_auth_hash.
    """
    user.set_password(password)
    user.save(update_fields=["password"])
    Student.objects.filter(user=user, must_change_password=True).update(must_change_password=False)
    logger.info("password changed username=%s", user.get_username())


@transaction.atomic
def student_update(*, student: Student) -> Student:
    """Save an edited student and copy the names and e-mail to the user (greeting, admin)."""
    student.full_clean()
    student.save()
    User.objects.filter(pk=student.user_id).update(
        first_name=student.first_name, last_name=student.last_name, email=student.email
    )
    return student


@transaction.atomic
def student_reset_first_login(*, students: list[Student]) -> int:
    """Back to first-login state: no password (the birth date works again), forced change.

    The password hash changes, so the student's open sessions end too.
    """
    user_ids = [student.user_id for student in students]
    users = list(User.objects.filter(pk__in=user_ids))
    for user in users:
        user.password = make_password(None)
    User.objects.bulk_update(users, ["password"], batch_size=BULK_BATCH_SIZE)
    count = Student.objects.filter(pk__in=[s.pk for s in students]).update(
        must_change_password=True
    )
    logger.info("students reset to first login count=%s", count)
    return count


@dataclass
class StudentImportPreview:
    to_create: list[RosterRow] = field(default_factory=list)
    to_update: list[RosterRow] = field(default_factory=list)
    unchanged: list[RosterRow] = field(default_factory=list)
    errors: list[RosterError] = field(default_factory=list)
    # How the file was read, for the preview: "CSV, encodage Windows-1252, séparateur « ; »".
    description: str = ""
    # (column letter, header in the file, field) of the columns imported, in file order.
    columns: list[tuple[str, str, str]] = field(default_factory=list)
    # The file's other columns ("C « Code étape »"), shown as not imported.
    ignored: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def rows(self) -> list[RosterRow]:
        """Every valid row, in file order: what the confirm step imports."""
        return sorted(self.to_create + self.to_update + self.unchanged, key=lambda r: r.line)


@dataclass(frozen=True)
class StudentImportResult:
    created: int
    updated: int
    unchanged: int


class StudentImportInvalid(Exception):
    def __init__(self, errors: list[RosterError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the roster")
        self.errors = errors


def _differs(student: Student, row: RosterRow) -> bool:
    return any(getattr(student, name) != getattr(row, name) for name in STUDENT_FIELDS)


def student_import_preview(*, data: bytes, encoding: str | None = None) -> StudentImportPreview:
    """What importing this file (CSV/TSV, .xlsx, .ods) would do: rows to create, to update,
    unchanged, and errors. Three queries whatever the file's size."""
    parsed = roster_parse(data=data, encoding=encoding)
    preview = student_import_preview_rows(rows=parsed.rows, errors=parsed.errors)
    preview.description = parsed.description
    preview.columns = parsed.columns
    preview.ignored = parsed.ignored
    return preview


def student_import_preview_rows(
    *, rows: list[RosterRow], errors: list[RosterError] | None = None
) -> StudentImportPreview:
    """The preview of rows already read (the confirm step's signed rows)."""
    preview = StudentImportPreview(errors=list(errors or []))
    numbers = [row.student_number for row in rows]
    students = {s.student_number: s for s in Student.objects.filter(student_number__in=numbers)}
    # A student number that is already the username of someone who is not a student (an
    # admin, a self-registered user) must not hand that account to the roster.
    other_users = set(
        User.objects.filter(username__in=numbers, student__isnull=True).values_list(
            "username", flat=True
        )
    )
    for row in rows:
        student = students.get(row.student_number)
        if row.student_number in other_users:
            preview.errors.append(
                RosterError(
                    row.line,
                    "student_number",
                    _("« %(number)s » est déjà le nom d’un compte qui n’est pas un étudiant.")
                    % {"number": row.student_number},
                    str(COLUMN_LABELS["student_number"]),
                )
            )
        elif student is None:
            preview.to_create.append(row)
        elif _differs(student, row):
            preview.to_update.append(row)
        else:
            preview.unchanged.append(row)
    preview.errors.sort(key=lambda error: error.line)
    return preview


def student_import_apply(*, data: bytes, encoding: str | None = None) -> StudentImportResult:
    """Import the roster file, all or nothing (see student_import_apply_rows)."""
    parsed = roster_parse(data=data, encoding=encoding)
    if parsed.errors:
        raise StudentImportInvalid(parsed.errors)
    return student_import_apply_rows(rows=parsed.rows)


@transaction.atomic
def student_import_apply_rows(*, rows: list[RosterRow]) -> StudentImportResult:
    """Import rows read from a roster, all or nothing. Idempotent; never touches a password
    already chosen.

    New students get an unusable password and `must_change_password`: they log in the first
    time with their birth date (accounts.backends.AccountBackend), so no hash is computed
    here. Existing students only get their names, birth date and e-mail updated.
    """
    preview = student_import_preview_rows(rows=rows)
    if not preview.is_valid:
        raise StudentImportInvalid(preview.errors)

    new_users = [
        User(
            username=row.student_number,
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            password=make_password(None),
        )
        for row in preview.to_create
    ]
    try:
        with transaction.atomic():
            User.objects.bulk_create(new_users, batch_size=BULK_BATCH_SIZE)
    except IntegrityError as error:
        # Another import or a sign-up took one of these usernames since the preview.
        raise StudentImportInvalid(
            [RosterError(FILE_LINE, "—", _("Un des comptes a été créé entre-temps ; relancez."))]
        ) from error
    Student.objects.bulk_create(
        [
            Student(
                user=user,
                student_number=row.student_number,
                last_name=row.last_name,
                first_name=row.first_name,
                birth_date=row.birth_date,
                email=row.email,
                must_change_password=True,
            )
            for user, row in zip(new_users, preview.to_create, strict=True)
        ],
        batch_size=BULK_BATCH_SIZE,
    )

    if preview.to_update:
        by_number = {row.student_number: row for row in preview.to_update}
        students = list(
            Student.objects.select_related("user").filter(student_number__in=list(by_number))
        )
        for student in students:
            row = by_number[student.student_number]
            for name in STUDENT_FIELDS:
                setattr(student, name, getattr(row, name))
            for name in USER_FIELDS:
                setattr(student.user, name, getattr(row, name))
        Student.objects.bulk_update(students, STUDENT_FIELDS, batch_size=BULK_BATCH_SIZE)
        User.objects.bulk_update(
            [student.user for student in students], USER_FIELDS, batch_size=BULK_BATCH_SIZE
        )

    result = StudentImportResult(
        created=len(preview.to_create),
        updated=len(preview.to_update),
        unchanged=len(preview.unchanged),
    )
    logger.info(
        "roster imported created=%s updated=%s unchanged=%s",
        result.created,
        result.updated,
        result.unchanged,
    )
    return result
