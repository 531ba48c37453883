from __future__ import annotations

from django.apps import AppConfig


class PlatformSiteConfig(AppConfig):
    """Installed so the project's own templates tags and management commands are found."""

    name = "platform_site"
