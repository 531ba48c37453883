"""The shell's one table: staff reading a student's content (GDPR accountability).

Staff may open a student's question or conversion in the admin (support, a request). Each
opening is recorded (who, whose, what, when), kept RETENTION_STAFF_ACCESS_DAYS, included in that
student's export and erased with their account (the foreign key).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffAccess(models.Model):
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("membre du personnel"),
    )
    # Kept when the staff account goes: the record is about what was read.
    staff_username = models.CharField(_("identifiant du personnel"), max_length=150)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("étudiant"),
    )
    kind = models.CharField(_("contenu"), max_length=32)
    object_id = models.CharField(_("identifiant du contenu"), max_length=64)
    at = models.DateTimeField(_("consulté le"), auto_now_add=True)

    class Meta:
        verbose_name = _("consultation par le personnel")
        verbose_name_plural = _("consultations par le personnel")
        indexes = [models.Index(fields=["owner", "at"], name="platform_staffaccess_owner")]

    def __str__(self) -> str:
        return f"{self.staff_username} {self.kind} {self.object_id} {self.at:%Y-%m-%d %H:%M}"
