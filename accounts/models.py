from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(DjangoUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # The login's user query (accounts.backends) also brings the student profile, so the login
        # signal reads must_change_password without a query of its own.
        return self.select_related("student").get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    """The site's user. Custom from the first migration so fields can be added later."""

    objects = UserManager()  # type: ignore[misc]


class Student(models.Model):
    """A student of the roster a teacher imports; the student number is also the username.

    The birth date doubles as the first-login password (accounts.backends.AccountBackend)
    while `must_change_password` is set and the account has no usable password.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="student",
        verbose_name=_("utilisateur"),
    )
    student_number = models.CharField(_("numéro d’étudiant"), max_length=150, unique=True)
    last_name = models.CharField(_("nom"), max_length=150)
    first_name = models.CharField(_("prénom"), max_length=150)
    # Deleted once the student chose a password or the first-login window ended (docs/data.md).
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    must_change_password = models.BooleanField(_("doit changer son mot de passe"), default=True)

    class Meta:
        verbose_name = _("étudiant")
        verbose_name_plural = _("étudiants")
        ordering = ["last_name", "first_name", "student_number"]

    def __str__(self) -> str:
        return f"{self.student_number} {self.last_name} {self.first_name}"


class RegistrationAttempt(models.Model):
    """One sign-up form sent, by client address: the hourly limit counts these.

    Kept in the database rather than a per-process cache so the limit holds across every
    replica; rows older than an hour are deleted as new ones come.
    """

    ip_address = models.GenericIPAddressField(_("adresse IP"))
    created_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("tentative d’inscription")
        verbose_name_plural = _("tentatives d’inscription")
        indexes = [
            models.Index(fields=["ip_address", "created_at"], name="accounts_reg_ip_recent"),
            models.Index(fields=["created_at"], name="accounts_reg_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.ip_address} {self.created_at:%Y-%m-%d %H:%M}"
