"""Stored compile errors shown in the reader's language."""

from __future__ import annotations

from typing import Any

from django import template

from latexocr import tex_errors

register = template.Library()


@register.filter
def errors_shown(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return tex_errors.errors_shown(stored)
