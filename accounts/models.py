from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The site's user. Custom from the first migration so fields can be added later."""
