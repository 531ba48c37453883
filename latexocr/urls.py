from __future__ import annotations

from django.urls import path

from latexocr import version_views, views

app_name = "latexocr"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("history/", views.history, name="history"),
    path("<uuid:conversion_id>/", version_views.detail, name="detail"),
    path("<uuid:conversion_id>/source.pdf", version_views.source_pdf, name="source_pdf"),
    path("<uuid:conversion_id>/edit/", version_views.edit, name="edit"),
    path("<uuid:conversion_id>/repair/", version_views.repair, name="repair"),
    path(
        "<uuid:conversion_id>/versions/<int:number>/status/",
        version_views.version_status,
        name="version_status",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/tex/",
        version_views.version_tex,
        name="version_tex",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/tex/download/",
        version_views.version_tex_download,
        name="version_tex_download",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/pdf/",
        version_views.version_pdf,
        name="version_pdf",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/pdf/download/",
        version_views.version_pdf_download,
        name="version_pdf_download",
    ),
    path(
        "<uuid:conversion_id>/versions/<int:number>/restore/",
        version_views.restore,
        name="version_restore",
    ),
    path("<uuid:conversion_id>/status/", views.status, name="status"),
    path("<uuid:conversion_id>/download/", views.download, name="download"),
    path(
        "<uuid:conversion_id>/download/repaired/",
        views.download_repaired,
        name="download_repaired",
    ),
    path("<uuid:conversion_id>/pdf/", views.pdf, name="pdf"),
    path("<uuid:conversion_id>/pdf/download/", views.pdf_download, name="pdf_download"),
    path("<uuid:conversion_id>/retry/", views.retry, name="retry"),
    path("<uuid:conversion_id>/delete/", views.delete, name="delete"),
]
