"""Stored compile errors shown in the reader's language: `{{ errors|errors_shown }}`."""

from __future__ import annotations

from django import template

from latexocr.tex.errors import errors_shown

register = template.Library()
register.filter("errors_shown", errors_shown)
