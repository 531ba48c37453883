from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from platform_site import health, views

# The admin speaks in the site's name, not Django's.
admin.site.site_header = _("Plateforme étudiante — administration")
admin.site.site_title = _("Plateforme étudiante")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views.root, name="root"),
    path("home/", views.home, name="home"),
    path("accessibilite/", views.accessibility_statement, name="accessibility"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("codegen/", include("codegen.urls")),
    path("ocr/", include("latexocr.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("django_prometheus.urls")),
]
