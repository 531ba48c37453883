from __future__ import annotations

from django.urls import path

from latexocr import views

app_name = "latexocr"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("history/", views.history, name="history"),
    path("<uuid:conversion_id>/", views.detail, name="detail"),
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
