from __future__ import annotations

from django.apps import AppConfig


class PlatformSiteConfig(AppConfig):
    """Installed so the project's own templates tags and management commands are found."""

    name = "platform_site"

    def ready(self) -> None:
        # The admin's autodiscovery ran already (django.contrib.admin comes first).
        from platform_site.privacy.admin_actions import student_admin_actions_add

        student_admin_actions_add()
