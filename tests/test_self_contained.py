"""The repository names no path outside itself, so a clone anywhere passes its own tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Absolute paths of one machine or a sibling folder of the checkout. URL paths such as
# "/home/" (the site's home page) are not machine paths and do not match.
OUTSIDE_PATHS = re.compile(
    r"(?<![\w.~-])/work/"  # the workplace's folders
    r"|\.\./shared\b"  # the shared folder beside the checkout
    r"|(?<![\w.-])/(?:home|Users)/[A-Za-z][\w.-]*/"  # someone's home folder
    r"|\b[A-Z]:\\\\Users\\\\",  # the same on Windows
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs a git checkout to list the tracked files",
)
def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: a PDF, an image
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE_PATHS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")

    assert offenders == []


def test_the_pattern_catches_outside_paths_and_spares_url_paths() -> None:
    # Assembled from pieces, so this file does not itself name an outside path.
    outside = [
        "/" + "work/" + "shared/" + "fixtures/a.pdf",
        "see ../" + "shared/DEPLOY.md",
        "/home/alice/x",
    ]
    inside = ['client.get("/home/")', "https://example.org/work/items", "tests/fixtures/a.pdf"]

    assert all(OUTSIDE_PATHS.search(text) for text in outside)
    assert not any(OUTSIDE_PATHS.search(text) for text in inside)
