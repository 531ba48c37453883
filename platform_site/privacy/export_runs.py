"""The background side of a large "download everything": build the ZIP, store it in chunks.

The worker runs this (platform_site.privacy.tasks); it never enqueues, so the tasks module can
import it without an import circle (the pattern of latexocr.enqueue). The ZIP is written to a
temporary file on disk, then stored one CHUNK_BYTES row at a time: the worker holds one chunk,
never the whole file, whatever the student's documents weigh.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platform_site.core.chunks import chunks_store
from platform_site.models import AccountExport, AccountExportChunk
from platform_site.privacy.account_data import account_export_write

logger = logging.getLogger(__name__)


def link_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.PRIVACY_EXPORT_LINK_HOURS)


def account_export_build(*, export_id: uuid.UUID | str) -> None:
    """Build a requested export and make its link live for PRIVACY_EXPORT_LINK_HOURS.

    An export gone meanwhile (the account erased, the purge) is nothing to do. A failure marks
    it failed, so the page offers to ask again instead of "being prepared" forever.
    """
    export = (
        AccountExport.objects.filter(pk=export_id, status=AccountExport.Status.PREPARING)
        .select_related("owner")
        .first()
    )
    if export is None:
        return
    try:
        with tempfile.TemporaryFile() as file, transaction.atomic():
            account_export_write(user=export.owner, file=file)
            size, _sha256 = chunks_store(
                file=file,
                create=lambda seq, data: AccountExportChunk.objects.create(
                    export=export, seq=seq, data=data
                ),
            )
            now = timezone.now()
            built = AccountExport.objects.filter(
                pk=export.pk, status=AccountExport.Status.PREPARING
            ).update(
                status=AccountExport.Status.READY,
                size_bytes=size,
                ready_at=now,
                expires_at=now + link_lifetime(),
            )
            if not built:
                # Replaced or erased while it was being built: keep none of it.
                transaction.set_rollback(True)
    except Exception:
        logger.exception("building a data export failed export=%s", export.pk)
        AccountExport.objects.filter(pk=export.pk).update(status=AccountExport.Status.FAILED)
