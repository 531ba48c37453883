from __future__ import annotations

from django.apps import AppConfig


class PlatformSiteConfig(AppConfig):
    """The project's template tags, management commands and the staff-access record."""

    name = "platform_site"

    def ready(self) -> None:
        # The admin's autodiscovery ran already (django.contrib.admin comes first).
        from platform_site.privacy.admin_actions import student_admin_actions_add
        from platform_site.privacy.staff_access import staff_access_recording_add

        student_admin_actions_add()
        staff_access_recording_add()
