from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.backends import first_login_password_matches
from accounts.models import Student, User
from accounts.roster.importing import roster_unsign
from accounts.roster.tables import ROSTER_MAX_BYTES
from accounts.roster.validation import RosterRow


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
        label=_("Fichier de la liste"),
        help_text=_(
            "CSV ou TSV (séparateur « ; », « , » ou tabulation), classeur Excel .xlsx ou "
            "LibreOffice .ods (première feuille), 5 Mo au plus. En-têtes en français ou en "
            "anglais : N° étudiant, Nom, Prénom, Date de naissance, E-mail (facultatif) ; "
            "les autres colonnes sont ignorées."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx,.ods,text/csv"}),
    )
    encoding = forms.ChoiceField(
        label=_("Encodage (CSV et TSV)"),
        choices=[
            ("", _("Détection automatique")),
            ("utf-8", _("UTF-8")),
            ("cp1252", _("Windows-1252 (Excel français, « CSV séparateur point-virgule »)")),
            ("latin-1", _("ISO-8859-1 (Latin-1)")),
        ],
        required=False,
        help_text=_("Changez-le seulement si les accents s’affichent mal dans l’aperçu."),
    )

    def clean_roster(self) -> bytes:
        upload = self.cleaned_data["roster"]
        if upload.size > ROSTER_MAX_BYTES:
            # Refused before reading a byte of it.
            raise ValidationError(
                _("Fichier trop volumineux : %(max)s Mo au plus.")
                % {"max": ROSTER_MAX_BYTES // (1024 * 1024)}
            )
        data: bytes = upload.read()
        return data

    def clean_encoding(self) -> str | None:
        encoding: str = self.cleaned_data["encoding"]
        return encoding or None


class RosterConfirmForm(forms.Form):
    """Carries the previewed rows back, signed (accounts.roster.importing.roster_sign): the confirm
    step needs no server state and imports exactly what the teacher saw."""

    roster_rows = forms.CharField(widget=forms.HiddenInput)

    def clean_roster_rows(self) -> list[RosterRow]:
        try:
            return roster_unsign(token=self.cleaned_data["roster_rows"])
        except signing.SignatureExpired as error:
            raise ValidationError(
                _("L’aperçu date de plus d’une heure : déposez le fichier à nouveau.")
            ) from error
        except (signing.BadSignature, ValueError, TypeError) as error:
            raise ValidationError(_("Données d’import illisibles : recommencez.")) from error
