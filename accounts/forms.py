from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.backends import first_login_password_matches
from accounts.models import Student, User

# Base64 in the confirm step must stay under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); 1.5 MB
# is ~25,000 students.
ROSTER_MAX_BYTES = 1536 * 1024


class RegisterForm(UserCreationForm[User]):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def username_taken(self) -> bool:
        return self.has_error("username", code="unique")


class LoginForm(AuthenticationForm):
    # One message for an unknown user and a wrong password: no account enumeration.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Identifiant ou mot de passe incorrect."),
    }


class AccountPasswordChangeForm(PasswordChangeForm):
    """Asks the current password; for a student's first login that is the birth date."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_incorrect": _("Le mot de passe actuel est incorrect."),
    }

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        student = Student.objects.select_related("user").filter(user=user).first()
        self.first_login_student = (
            student
            if student is not None
            and student.must_change_password
            and not user.has_usable_password()
            else None
        )
        if self.first_login_student is not None:
            self.fields["old_password"].label = _(
                "Mot de passe actuel (date de naissance JJMMAAAA)"
            )
        else:
            self.fields["old_password"].label = _("Mot de passe actuel")

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        if self.first_login_student is not None:
            if first_login_password_matches(
                student=self.first_login_student, password=old_password
            ):
                return old_password
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return super().clean_old_password()


class RosterUploadForm(forms.Form):
    roster = forms.FileField(
        label=_("Fichier CSV"),
        help_text=_(
            "UTF-8, séparateur « ; » ou « , », en-tête "
            "student_number;last_name;first_name;birth_date;email"
        ),
    )

    def clean_roster(self) -> bytes:
        upload = self.cleaned_data["roster"]
        if upload.size > ROSTER_MAX_BYTES:
            raise ValidationError(_("Fichier trop volumineux (1,5 Mo au plus)."))
        data: bytes = upload.read()
        return data


class RosterConfirmForm(forms.Form):
    """Carries the previewed file back (base64) so the confirm step needs no server state."""

    roster_data = forms.CharField(widget=forms.HiddenInput)

    def clean_roster_data(self) -> bytes:
        try:
            return base64.b64decode(self.cleaned_data["roster_data"], validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValidationError(_("Données d'import illisibles : recommencez.")) from error
