"""A PDF-to-LaTeX conversion: the uploaded PDF, its state and its result, all in the database.

The PDF is kept in PostgreSQL (not on a volume) so any web or worker replica can read it; the
user's file name is kept for display only and never used as a path. What the compilation of
the result gave lives on its versions (`Version`), the one record of each compile.

The uploaded PDF is stored in 1 MiB chunks (`PdfChunk`, written and read by
latexocr.conversions.storage), so neither the web process storing it nor a process reading it
back ever holds a 20 MB value in one query (docs/performance.md).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from platform_site.core.failures import RecordedFailure, failure_message


class InvalidTransition(Exception):
    """A status change the workflow does not allow (e.g. retrying a conversion that succeeded)."""


# Keys: latexocr.engines.local_engine.PageIssue values.
PAGE_ISSUE_MESSAGES = {
    "low_confidence": ngettext_lazy(
        "Page %(pages)s : le texte semble manuscrit ou photographié, et ce qui a été lu est "
        "sans doute inexact. Le moteur de conversion utilisé ici ne lit que le texte "
        "imprimé : l’écriture manuscrite et les formules demandent le moteur Gemini, qui "
        "n’est pas disponible sur ce site pour le moment.",
        "Pages %(pages)s : le texte semble manuscrit ou photographié, et ce qui a été lu est "
        "sans doute inexact. Le moteur de conversion utilisé ici ne lit que le texte "
        "imprimé : l’écriture manuscrite et les formules demandent le moteur Gemini, qui "
        "n’est pas disponible sur ce site pour le moment.",
        "count",
    ),
    "timeout": ngettext_lazy(
        "Page %(pages)s : non lue, sa lecture a pris trop de temps.",
        "Pages %(pages)s : non lues, leur lecture a pris trop de temps.",
        "count",
    ),
    "ocr_unavailable": ngettext_lazy(
        "Page %(pages)s : c’est une page scannée, et ce site ne peut pas lire les pages "
        "scannées pour le moment ; elle est vide dans le document.",
        "Pages %(pages)s : ce sont des pages scannées, et ce site ne peut pas lire les pages "
        "scannées pour le moment ; elles sont vides dans le document.",
        "count",
    ),
    "unreadable": ngettext_lazy(
        "Page %(pages)s : elle n’a pas pu être lue ; elle est vide dans le document.",
        "Pages %(pages)s : elles n’ont pas pu être lues ; elles sont vides dans le document.",
        "count",
    ),
}


class Conversion(RecordedFailure):
    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminée")
        FAILED = "failed", _("échouée")

    # queued -> running -> done | failed; failed -> queued (retry); running -> queued (reaper:
    # its worker died). A queued conversion that cannot start (quota, poison PDF) may fail.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.QUEUED: frozenset({Status.RUNNING, Status.FAILED}),
        Status.RUNNING: frozenset({Status.DONE, Status.FAILED, Status.QUEUED}),
        Status.FAILED: frozenset({Status.QUEUED}),
        Status.DONE: frozenset(),
    }

    class Backend(models.TextChoices):
        GEMINI = "gemini", _("Gemini")
        LOCAL = "local", _("texte du PDF (sans Gemini)")
        OPENAI = "openai", _("serveur de modèles (compatible OpenAI)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversions",
        verbose_name=_("propriétaire"),
    )
    original_filename = models.CharField(_("nom du fichier envoyé"), max_length=255)
    size_bytes = models.PositiveIntegerField(_("taille (octets)"))
    page_count = models.PositiveIntegerField(_("pages"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)

    backend = models.CharField(_("moteur"), max_length=16, choices=Backend.choices)
    model = models.CharField(_("modèle"), max_length=100, blank=True)
    # Fingerprint of the prompt template: the same PDF under another prompt is another job.
    prompt_sha256 = models.CharField(_("empreinte du prompt"), max_length=64, blank=True)

    status = models.CharField(
        _("statut"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    pages_done = models.PositiveIntegerField(_("pages converties"), default=0)
    attempts = models.PositiveIntegerField(_("exécutions"), default=0)
    latex = models.TextField(_("LaTeX"), blank=True)
    # Local engine: page number → why its text is unsure or missing (local_engine.PageIssue).
    page_issues = models.JSONField(_("pages à vérifier"), default=dict, blank=True)
    gemini_calls = models.PositiveIntegerField(_("appels Gemini"), default=0)
    input_tokens = models.PositiveIntegerField(_("jetons en entrée"), null=True, blank=True)
    output_tokens = models.PositiveIntegerField(_("jetons en sortie"), null=True, blank=True)

    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("démarrée le"), null=True, blank=True)
    # Touched at each sign of progress: the reaper requeues a conversion only when its worker
    # has been silent for LATEXOCR_STUCK_AFTER_S, not merely when it has run that long.
    heartbeat_at = models.DateTimeField(_("dernier signe de vie"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("conversion")
        verbose_name_plural = _("conversions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="latexocr_owner_recent"),
            models.Index(fields=["owner", "sha256"], name="latexocr_owner_sha256"),
            models.Index(fields=["status", "started_at"], name="latexocr_status_started"),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.get_status_display()})"

    def check_transition(self, new_status: str) -> None:
        if new_status not in self.TRANSITIONS[self.status]:
            raise InvalidTransition(f"{self.status} -> {new_status} is not allowed.")

    @property
    def page_issue_messages(self) -> list[str]:
        """What the student should know about pages the local engine could not read well."""
        pages_by_issue: dict[str, list[str]] = {}
        for number, issue in sorted(self.page_issues.items(), key=lambda item: int(item[0])):
            pages_by_issue.setdefault(issue, []).append(number)
        messages = []
        for issue, pages in pages_by_issue.items():
            template = PAGE_ISSUE_MESSAGES.get(issue, PAGE_ISSUE_MESSAGES["unreadable"])
            messages.append(template % {"pages": ", ".join(pages), "count": len(pages)})
        return messages

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.page_count:
            return 0
        return min(100, self.pages_done * 100 // self.page_count)

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def runs_left(self) -> int:
        return max(0, settings.LATEXOCR_MAX_RUNS - self.attempts)

    def can_be_retried(self, *, backend_configured: bool) -> bool:
        """Offered only when running again can succeed (runs left, a failure a retry may fix,
        its backend configured now: the caller asks, a model asks no provider)."""
        return (
            self.status == self.Status.FAILED
            and self.runs_left > 0
            and self.error_retryable
            and backend_configured
        )

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def current_compile_status_display(self) -> str:
        """The current version's compile status, as annotated by conversion_list ("" if none)."""
        value = getattr(self, "current_compile_status", None)
        return str(Version.CompileStatus(value).label) if value else ""


class Version(models.Model):
    """One state of a conversion's LaTeX, with what its compilation gave.

    The transcription is version 1, the automatic repair round's answer version 2 (when the
    round ran); each edit, restore or repair on demand adds the next number. The newest is
    the current one: shown in the editor, compiled in the preview, sent to Overleaf. Each is
    compiled in the background, in the compile check's sandbox.
    """

    class Origin(models.TextChoices):
        ORIGINAL = "original", _("transcription")
        REPAIRED = "repaired", _("corrigée par Gemini")
        EDITED = "edited", _("modifiée")
        RESTORED = "restored", _("restaurée")

    class CompileStatus(models.TextChoices):
        QUEUED = "queued", _("compilation en attente")
        RUNNING = "running", _("compilation en cours")
        COMPILES = "compiles", _("se compile")
        FAILS = "fails", _("ne se compile pas")
        SKIPPED = "skipped", _("non vérifiée")

    conversion = models.ForeignKey(
        Conversion, on_delete=models.CASCADE, related_name="versions", verbose_name=_("conversion")
    )
    number = models.PositiveIntegerField(_("numéro"))
    origin = models.CharField(_("origine"), max_length=16, choices=Origin.choices)
    # The version a restored one copies.
    restored_from = models.PositiveIntegerField(_("restaurée depuis"), null=True, blank=True)
    latex = models.TextField(_("LaTeX"))
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    compile_status = models.CharField(
        _("compilation"), max_length=16, choices=CompileStatus.choices, default=CompileStatus.QUEUED
    )
    compile_skipped_reason = models.CharField(
        _("raison de l’absence de vérification"), max_length=255, blank=True
    )
    # The first errors, as [{"line": int | None, "message": str}].
    compile_errors = models.JSONField(_("erreurs de compilation"), default=list, blank=True)
    compile_log_excerpt = models.TextField(_("extrait du journal de compilation"), blank=True)
    compile_duration_s = models.FloatField(_("durée de compilation (s)"), null=True, blank=True)
    compiled_pdf = models.BinaryField(_("PDF compilé"), null=True, blank=True)
    compiled_page_count = models.PositiveIntegerField(
        _("pages du PDF compilé"), null=True, blank=True
    )
    compiled_at = models.DateTimeField(_("compilée le"), null=True, blank=True)
    # When a worker claimed the compile: a version running much longer than the compile's own
    # time limit lost its worker (version_reap_stuck).
    compile_started_at = models.DateTimeField(_("compilation commencée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("version")
        verbose_name_plural = _("versions")
        ordering = ["conversion", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversion", "number"], name="latexocr_version_unique_number"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="latexocr_version_created")]

    def __str__(self) -> str:
        return f"{self.conversion_id} v{self.number}"

    @property
    def is_compiling(self) -> bool:
        return self.compile_status in (self.CompileStatus.QUEUED, self.CompileStatus.RUNNING)

    @property
    def has_pdf(self) -> bool:
        return self.compile_status == self.CompileStatus.COMPILES


class RepairRequest(models.Model):
    """A repair round the student asked for: counted in the daily conversion quota."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminée")
        FAILED = "failed", _("échouée")

    conversion = models.ForeignKey(
        Conversion,
        on_delete=models.CASCADE,
        related_name="repair_requests",
        verbose_name=_("conversion"),
    )
    # Kept beside the conversion so the quota counts requests without a join.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="repair_requests",
        verbose_name=_("propriétaire"),
    )
    source_number = models.PositiveIntegerField(_("version envoyée"))
    status = models.CharField(
        _("statut"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    # Why the round gave no version: a failure code (platform_site.core.failures) and its
    # parameters, worded in the reader's language when shown; the raw detail is for staff.
    error_code = models.CharField(_("code d’erreur"), max_length=64, blank=True)
    error_params = models.JSONField(_("paramètres de l’erreur"), default=dict, blank=True)
    error_detail = models.TextField(_("détail technique (équipe)"), blank=True)
    result_number = models.PositiveIntegerField(_("version obtenue"), null=True, blank=True)
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    # When a worker claimed the round: one running far longer than a round can lost its
    # worker (repair_reap_stuck).
    started_at = models.DateTimeField(_("démarrée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("demande de correction")
        verbose_name_plural = _("demandes de correction")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "created_at"], name="latexocr_repair_owner")]

    def __str__(self) -> str:
        return f"{self.conversion_id} repair of v{self.source_number}"

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def error_message(self) -> str:
        """Why the round gave no version, in the reader's language ("" when it gave one)."""
        return failure_message(self.error_code, self.error_params)


class PdfChunk(models.Model):
    """One slice of a conversion's uploaded PDF; `seq` orders them from 0."""

    conversion = models.ForeignKey(
        Conversion,
        on_delete=models.CASCADE,
        related_name="pdf_chunks",
        verbose_name=_("conversion"),
    )
    seq = models.PositiveIntegerField(_("rang"))
    data = models.BinaryField(_("données"))

    class Meta:
        verbose_name = _("morceau de PDF")
        verbose_name_plural = _("morceaux de PDF")
        constraints = [
            models.UniqueConstraint(fields=["conversion", "seq"], name="latexocr_pdfchunk_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.conversion_id} #{self.seq}"
