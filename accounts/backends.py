"""First login of an imported student: username = student number, password = birth date.

The import gives students no password hash at all (hashing thousands of birth dates would
take minutes and protect nothing: the birth date is stored on the profile anyway). This
backend accepts the birth date, as DDMMYYYY, only while the account has no usable password
and the student must still change it; once they have chosen a password it never matches
again. It sits after django-axes, so the lockout guards these guessable values too.
One backend serves both kinds of login, with one query (the user and its profile).
"""

from __future__ import annotations

import datetime
import hmac
from typing import Any

from django.contrib.auth import check_password_with_timing_attack_mitigation
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from accounts.models import Student, User
from accounts.selectors import user_by_id


def first_login_password(birth_date: datetime.date) -> str:
    return birth_date.strftime("%d%m%Y")


def first_login_password_matches(*, student: Student, password: str) -> bool:
    if student.user.has_usable_password() or not student.must_change_password:
        return False
    # Deleted when the first-login window ended (retention): the teacher imports it again.
    if student.birth_date is None:
        return False
    return hmac.compare_digest(
        password.encode("utf-8"), first_login_password(student.birth_date).encode("utf-8")
    )


class AccountBackend(ModelBackend):
    """Django's ModelBackend plus the first login of an imported student, in one query.

    The user comes with its student profile (`UserManager.get_by_natural_key`). A student
    who must still change a password they do not have logs in with their birth date (no hash
    computed); anyone else with their password, checked by Django (with a dummy hash for an
    unknown user, so both take about as long).
    """

    def get_user(self, user_id: int) -> User | None:
        # Every request of a logged-in user comes here (Django's is a queryset .get()).
        user = user_by_id(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @sensitive_variables("password")
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        try:
            user: User | None = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            user = None
        student: Student | None = getattr(user, "student", None)
        if (
            user is not None
            and student is not None
            and student.student_number == username
            and first_login_password_matches(student=student, password=password)
        ):
            return user if self.user_can_authenticate(user) else None
        # A first-login student with a wrong birth date also goes through here: a dummy hash
        # (no usable password), so the answer takes as long as for any other account.
        if check_password_with_timing_attack_mitigation(
            user, password
        ) and self.user_can_authenticate(user):
            return user
        return None
