from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from platform_site import health, views

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("codegen/", include("codegen.urls")),
    path("ocr/", include("latexocr.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("django_prometheus.urls")),
]
