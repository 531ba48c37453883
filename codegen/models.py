"""A question asked to the LLM: saved before the outside call, updated after it.

Saving first means nothing is lost when the LLM fails or the process dies mid-call: the
question stays in the user's history with its status and can be sent again.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platform_site.core.failures import RecordedFailure, failure_kind


class InvalidTransition(Exception):
    """A status change the workflow does not allow (e.g. retrying an answered question)."""


# Failures of the site itself, beside those of the wrappers (platform_site.llm).
BUSY = failure_kind(
    "codegen.busy",
    _("Trop de questions sont en cours sur le serveur : renvoyez-la dans un instant."),
    retry=True,
    charged=False,
)
INTERRUPTED = failure_kind(
    "codegen.interrupted",
    _("L’envoi a été interrompu avant la réponse."),
    retry=True,
    charged=True,
)


class Question(RecordedFailure):
    class Status(models.TextChoices):
        PENDING = "pending", _("en cours")
        ANSWERED = "answered", _("répondue")
        FAILED = "failed", _("échouée")

    # pending -> answered | failed; failed -> pending (sent again). A pending question left
    # behind by a process that died mid-call is failed first when someone resends it.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.ANSWERED, Status.FAILED}),
        Status.FAILED: frozenset({Status.PENDING}),
        Status.ANSWERED: frozenset(),
    }

    class Backend(models.TextChoices):
        WEBHOOK = "webhook", _("webhook Make.com")
        GEMINI = "gemini", _("Gemini")
        OPENAI = "openai", _("serveur de modèles (compatible OpenAI)")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("utilisateur"),
    )
    message = models.TextField(_("question"))
    backend = models.CharField(_("moteur"), max_length=16, choices=Backend.choices)
    status = models.CharField(
        _("statut"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # The LLM's whole text, kept so a parser change can be checked against real replies.
    reply = models.TextField(_("réponse brute"), blank=True)
    code = models.TextField(_("code"), blank=True)
    explanation = models.TextField(_("explication"), blank=True)
    # The explanation as sanitised HTML, rendered once when the answer is saved: rendering
    # is the costly part of a page view, and a reply is read many times.
    explanation_html = models.TextField(_("explication (HTML)"), blank=True, editable=False)
    # Hundredths of a millisecond: the benchmark subtracts it from request times of a few
    # milliseconds, where whole milliseconds moved its result by up to ±0.5 ms.
    latency_ms = models.FloatField(_("durée de l’appel (ms)"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("envois"), default=0)
    created_at = models.DateTimeField(_("posée le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="codegen_user_recent"),
        ]

    def __str__(self) -> str:
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else ""
        return first_line[:80]

    def check_transition(self, new_status: str) -> None:
        if new_status not in self.TRANSITIONS[self.status]:
            raise InvalidTransition(f"{self.status} -> {new_status} is not allowed.")

    @property
    def is_interrupted(self) -> bool:
        """Pending for longer than any call may last: its process died before recording."""
        if self.status != self.Status.PENDING:
            return False
        started = self.sent_at or self.created_at
        limit = timedelta(seconds=2 * settings.CODEGEN_TIMEOUT_S + 60)
        return started is not None and timezone.now() - started > limit

    @property
    def sends_left(self) -> int:
        """Each send is a paid LLM call the daily quota counted once: resending is capped."""
        return max(0, settings.CODEGEN_MAX_SENDS - self.attempts)

    @property
    def has_failed(self) -> bool:
        return self.status == self.Status.FAILED or self.is_interrupted

    @property
    def failure_message(self) -> str:
        """What the page says went wrong, in the reader's language."""
        if self.is_interrupted and not self.error_code:
            return str(INTERRUPTED.message)
        return self.error_message

    def can_be_resent(self, *, backend_configured: bool) -> bool:
        """Offered only when sending again can succeed: sends left, a failure a retry may
        fix, and a backend configured now (the caller asks the registry; a model asks no
        provider)."""
        return (
            self.has_failed and self.sends_left > 0 and self.error_retryable and backend_configured
        )

    @property
    def download_filename(self) -> str:
        return f"question-{self.pk}.py"
