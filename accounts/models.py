from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The site's user. Custom from the first migration so fields can be added later."""


class Student(models.Model):
    """A student of the roster a teacher imports; the student number is also the username.

    The birth date doubles as the first-login password (accounts.backends.FirstLoginBackend)
    while `must_change_password` is set and the account has no usable password.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="student",
        verbose_name=_("utilisateur"),
    )
    student_number = models.CharField(_("numéro d'étudiant"), max_length=150, unique=True)
    last_name = models.CharField(_("nom"), max_length=150)
    first_name = models.CharField(_("prénom"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    email = models.EmailField(_("adresse e-mail"), blank=True)
    must_change_password = models.BooleanField(_("doit changer son mot de passe"), default=True)

    class Meta:
        verbose_name = _("étudiant")
        verbose_name_plural = _("étudiants")
        ordering = ["last_name", "first_name", "student_number"]

    def __str__(self) -> str:
        return f"{self.student_number} {self.last_name} {self.first_name}"
