"""The shell's tables: what spans every app's data, for GDPR.

- StaffAccess: staff reading a student's content (accountability). Staff may open a student's
  question or conversion in the admin (support, a request). Each opening is recorded (who,
  whose, what, when), kept RETENTION_STAFF_ACCESS_DAYS, included in that student's export and
  erased with their account (the foreign key).
- AccountExport and its chunks: a student's "download everything" ZIP when it is too large to
  build in the request (PRIVACY_EXPORT_INLINE_MAX_MB). It is built in the background, stored in
  chunks like an uploaded PDF, downloaded by its owner alone until it expires
  (PRIVACY_EXPORT_LINK_HOURS), then deleted by the purge; erased with the account.
"""

from __future__ import annotations

import uuid

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


class AccountExport(models.Model):
    class Status(models.TextChoices):
        PREPARING = "preparing", _("en préparation")
        READY = "ready", _("prêt")
        FAILED = "failed", _("échec")

    # Random (UUID4, 122 bits): the link names no user and cannot be guessed from another.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("étudiant"),
    )
    status = models.CharField(
        _("état"), max_length=16, choices=Status.choices, default=Status.PREPARING
    )
    size_bytes = models.PositiveBigIntegerField(_("taille (octets)"), null=True, blank=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    ready_at = models.DateTimeField(_("prêt le"), null=True, blank=True)
    # Set at the request and again when the file is ready: one that never gets built (a
    # worker lost) is purged like a downloaded one.
    expires_at = models.DateTimeField(_("expire le"))

    class Meta:
        verbose_name = _("export des données")
        verbose_name_plural = _("exports des données")
        indexes = [
            models.Index(fields=["owner", "created_at"], name="platform_export_owner"),
            models.Index(fields=["expires_at"], name="platform_export_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.status}"


class AccountExportChunk(models.Model):
    """One slice of a prepared export's ZIP; `seq` orders them from 0."""

    export = models.ForeignKey(
        AccountExport,
        on_delete=models.CASCADE,
        related_name="chunks",
        verbose_name=_("export des données"),
    )
    seq = models.PositiveIntegerField(_("rang"))
    data = models.BinaryField(_("données"))

    class Meta:
        verbose_name = _("morceau d’export")
        verbose_name_plural = _("morceaux d’export")
        constraints = [
            models.UniqueConstraint(fields=["export", "seq"], name="platform_exportchunk_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.export_id} #{self.seq}"
