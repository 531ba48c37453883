from __future__ import annotations

from django.urls import path

from codegen import views

app_name = "codegen"

urlpatterns = [
    path("", views.index, name="index"),
    path("send/", views.send, name="send"),
    path("stream/", views.stream, name="stream"),
    path("history/", views.history, name="history"),
    path("<int:question_id>/", views.detail, name="detail"),
    path("<int:question_id>/download/", views.download, name="download"),
    path("<int:question_id>/retry/", views.retry, name="retry"),
    path("<int:question_id>/delete/", views.delete, name="delete"),
]
