"""The English catalogue stays complete: a French string without English shows up in French."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ENGLISH_CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_english_catalogue_has_no_untranslated_or_fuzzy_message() -> None:
    # msgfmt prints e.g. "412 translated messages, 3 fuzzy translations, 2 untranslated
    # messages." and leaves out the parts that are zero.
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(ENGLISH_CATALOGUE)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "translated message" in result.stderr
    assert "fuzzy" not in result.stderr
    assert "untranslated" not in result.stderr
