"""First login of an imported student: username = student number, password = birth date.

The import gives students no password hash at all (hashing thousands of birth dates would
take minutes and protect nothing: the birth date is stored on the profile anyway). This
backend accepts the birth date, as DDMMYYYY, only while the account has no usable password
and the student must still change it; once they have chosen a password it never matches
again. It sits after django-axes, so the lockout guards these guessable values too.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from accounts.models import Student, User


def first_login_password(student: Student) -> str:
    return student.birth_date.strftime("%d%m%Y")


def first_login_password_matches(*, student: Student, password: str) -> bool:
    if student.user.has_usable_password() or not student.must_change_password:
        return False
    return hmac.compare_digest(
        password.encode("utf-8"), first_login_password(student).encode("utf-8")
    )


class FirstLoginBackend(BaseBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        student = (
            Student.objects.select_related("user")
            .filter(student_number=username, user__username=username, must_change_password=True)
            .first()
        )
        if student is None or not student.user.is_active:
            return None
        if first_login_password_matches(student=student, password=password):
            return student.user
        return None

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
