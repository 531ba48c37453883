"""The "download everything" of Mes données: at once when small, in the background when large.

Below PRIVACY_EXPORT_INLINE_MAX_MB of stored documents the ZIP is built in the request (it
takes well under a second, and the memory it holds is bounded by the setting). Above it, the
request only records an export to prepare; a task builds it (export_runs) and the page then
offers a link, opaque (the export's random id) and for its owner alone, until it expires.
A user has at most one export stored: asking again replaces a finished one.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce, Length
from django.http import Http404

from accounts.models import User
from latexocr.models import Conversion, Version
from platform_site.core.chunks import chunks_read
from platform_site.models import AccountExport, AccountExportChunk
from platform_site.privacy.export_runs import link_lifetime
from platform_site.privacy.tasks import account_export_build_task

MEGABYTE = 1024 * 1024


class ExportExpired(Exception):
    """The owner's export link is past its PRIVACY_EXPORT_LINK_HOURS."""


def account_export_stored_bytes(*, user: User) -> int:
    """What the user's ZIP will roughly weigh: their uploaded PDFs, LaTeX and compiled PDFs.

    Questions are text of a few kB each and are left out; ZIP compression only makes the
    file smaller. Two aggregate queries, whatever the number of documents.
    """
    uploads = Conversion.objects.filter(owner=user).aggregate(total=Coalesce(Sum("size_bytes"), 0))[
        "total"
    ]
    versions = Version.objects.filter(conversion__owner=user).aggregate(
        total=Coalesce(Sum(Length("latex")), 0) + Coalesce(Sum(Length("compiled_pdf")), 0)
    )["total"]
    return int(uploads) + int(versions)


def account_export_is_inline(*, user: User) -> bool:
    limit = settings.PRIVACY_EXPORT_INLINE_MAX_MB * MEGABYTE
    return account_export_stored_bytes(user=user) <= limit


@transaction.atomic
def account_export_request(*, user: User, now: datetime.datetime) -> AccountExport:
    """The export being prepared for the user, or a new one queued once the request commits."""
    preparing = (
        AccountExport.objects.select_for_update()
        .filter(owner=user, status=AccountExport.Status.PREPARING, expires_at__gt=now)
        .first()
    )
    if preparing is not None:
        return preparing
    AccountExport.objects.filter(owner=user).delete()
    export = AccountExport(owner=user, expires_at=now + link_lifetime())
    export.full_clean(exclude=["owner"])
    export.save()
    export_id = str(export.pk)
    transaction.on_commit(lambda: account_export_build_task.enqueue(export_id))
    return export


def account_export_latest(*, user: User, now: datetime.datetime) -> AccountExport | None:
    """The user's export the page shows (preparing, ready or failed), unless expired."""
    return (
        AccountExport.objects.filter(owner=user, expires_at__gt=now).order_by("-created_at").first()
    )


def account_export_ready_get(
    *, user: User, export_id: uuid.UUID, now: datetime.datetime
) -> AccountExport:
    """The user's own ready export; 404 for anyone else's (its existence is not revealed)."""
    export = AccountExport.objects.filter(
        pk=export_id, owner=user, status=AccountExport.Status.READY
    ).first()
    if export is None:
        raise Http404
    if export.expires_at <= now:
        raise ExportExpired
    return export


def account_export_chunks(*, export: AccountExport) -> Iterator[bytes]:
    """The prepared ZIP, chunk by chunk, in order (one query per chunk, one chunk held)."""
    return chunks_read(AccountExportChunk.objects.filter(export=export))
