"""The environment every settings module reads: the .env of development, DEBUG, BASE_DIR."""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The development .env that scripts/run writes (git-ignored) fills the variables the
# environment leaves unset, so manage.py works from any terminal. Production has none (the
# image leaves .env out); DJANGO_ENV_FILE= (empty) ignores it, e.g. to test the settings.
ENV_FILE = os.environ.get("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE, overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def required_in_production(name: str, quickstart_default: str) -> str:
    """A variable that may default only while DEBUG is on, so a forgotten secret stops start-up."""
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return quickstart_default
    raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")
