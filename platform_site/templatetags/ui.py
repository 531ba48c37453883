"""Template filters shared by the site's pages."""

from __future__ import annotations

import math
from datetime import timedelta

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.filter
def minutes_text(duration: timedelta | None) -> str:
    """A wait as "15 minutes", rounded up: coming back too early only meets the lock again."""
    if duration is None:
        return ""
    minutes = max(1, math.ceil(duration.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
