from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from platform_site import health, views
from platform_site.privacy import views as privacy_views

# The admin speaks in the site's name, not Django's.
admin.site.site_header = _("Plateforme étudiante — administration")
admin.site.site_title = _("Plateforme étudiante")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("accessibilite/", views.accessibility_statement, name="accessibility"),
    path("privacy/", privacy_views.notice, name="privacy"),
    path("privacy/my-data/", privacy_views.my_data, name="my_data"),
    path("privacy/my-data/export/", privacy_views.my_data_export, name="my_data_export"),
    path(
        "privacy/my-data/exports/<uuid:export_id>/",
        privacy_views.my_data_export_download,
        name="my_data_export_download",
    ),
    path("privacy/my-data/erase/", privacy_views.my_data_erase, name="my_data_erase"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("codegen/", include("codegen.urls")),
    path("ocr/", include("latexocr.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("django_prometheus.urls")),
]
