from __future__ import annotations

from django.urls import path

from latexocr.views import conversions, detail, downloads, review

app_name = "latexocr"

urlpatterns = [
    path("", conversions.upload, name="upload"),
    path("history/", conversions.history, name="history"),
    path("<uuid:conversion_id>/", detail.detail, name="detail"),
    path("<uuid:conversion_id>/source.pdf", downloads.source_pdf, name="source_pdf"),
    path("<uuid:conversion_id>/edit/", review.edit, name="edit"),
    path("<uuid:conversion_id>/repair/", review.repair, name="repair"),
    path(
        "<uuid:conversion_id>/versions/<int:number>/status/",
        review.version_status,
        name="version_status",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/tex/",
        downloads.version_tex,
        name="version_tex",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/tex/download/",
        downloads.version_tex_download,
        name="version_tex_download",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/pdf/",
        downloads.version_pdf,
        name="version_pdf",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/pdf/download/",
        downloads.version_pdf_download,
        name="version_pdf_download",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/restore/",
        review.restore,
        name="version_restore",
    ),
    path("<uuid:conversion_id>/status/", detail.status, name="status"),
    # Addresses of the time before versions, linked from no page now: 301 to a version's.
    path("<uuid:conversion_id>/download/", downloads.legacy_download, name="download"),
    path(
        "<uuid:conversion_id>/download/repaired/",
        downloads.legacy_download_repaired,
        name="download_repaired",
    ),
    path("<uuid:conversion_id>/pdf/", downloads.legacy_pdf, name="pdf"),
    path("<uuid:conversion_id>/pdf/download/", downloads.legacy_pdf_download, name="pdf_download"),
    path("<uuid:conversion_id>/retry/", conversions.retry, name="retry"),
    path("<uuid:conversion_id>/delete/", conversions.delete, name="delete"),
]
