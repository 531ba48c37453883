"""The one wrapper around the Tesseract OCR program (Debian's `tesseract-ocr` packages).

Tesseract runs as a subprocess, one page image at a time: a crash or a runaway page cannot
take the worker down, and the time limit kills it. It prints TSV (one row per word with its
block, paragraph and line numbers and a confidence from 0 to 100), from which the paragraphs
and the page's confidence are rebuilt; the confidence is what tells a printed page (85 to 96)
from handwriting or a photo (below 60).
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

LANGUAGES = "fra+eng"
# Each call uses one core: pages run in parallel instead (LATEXOCR_LOCAL_PARALLEL_PAGES),
# which is faster than Tesseract's own threads and keeps the load predictable.
SINGLE_THREAD = {"OMP_THREAD_LIMIT": "1"}


class TesseractError(Exception):
    """Tesseract could not read the page; the message is for the logs and staff."""


class TesseractMissing(TesseractError):
    """The program or one of its languages is not installed on this machine."""


class TesseractTimeout(TesseractError):
    """The page took longer than its time limit."""


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float
    block: int
    paragraph: int
    line: int
    height: int


@dataclass
class OcrPage:
    """What Tesseract read on one page: paragraphs of lines of words, and how sure it is."""

    words: list[OcrWord] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        """Mean word confidence weighted by length, over words with a letter or digit."""
        weighted = [
            (word.confidence, len(word.text))
            for word in self.words
            if any(char.isalnum() for char in word.text)
        ]
        total = sum(length for _confidence, length in weighted)
        if not total:
            return 0.0
        return sum(confidence * length for confidence, length in weighted) / total

    @property
    def character_count(self) -> int:
        return sum(len(word.text) for word in self.words)

    def paragraphs(self) -> list[list[str]]:
        """Tesseract's paragraphs in reading order, each a list of lines (words joined)."""
        grouped: dict[tuple[int, int], dict[int, list[str]]] = {}
        for word in self.words:
            lines = grouped.setdefault((word.block, word.paragraph), {})
            lines.setdefault(word.line, []).append(word.text)
        return [[" ".join(words) for words in lines.values()] for lines in grouped.values()]


def tesseract_path() -> str | None:
    return shutil.which("tesseract")


def tesseract_available(languages: str = LANGUAGES) -> bool:
    """Whether the program and every language of `languages` are installed."""
    program = tesseract_path()
    if program is None:
        return False
    try:
        listed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [program, "--list-langs"], capture_output=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return False
    installed = {line.strip() for line in listed.stdout.decode(errors="replace").splitlines()}
    return all(language in installed for language in languages.split("+"))


def ocr_image(image: bytes, *, timeout_s: float, languages: str = LANGUAGES) -> OcrPage:
    """Read a page image (PNG, PGM, TIFF…) with Tesseract, killed after `timeout_s`."""
    program = tesseract_path()
    if program is None:
        raise TesseractMissing("tesseract is not installed")
    try:
        completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [program, "stdin", "stdout", "-l", languages, "--psm", "3", "tsv"],
            input=image,
            capture_output=True,
            timeout=timeout_s,
            env={**os.environ, **SINGLE_THREAD},
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise TesseractTimeout(f"tesseract took more than {timeout_s:g} s") from error
    except OSError as error:
        raise TesseractMissing(f"tesseract cannot run: {error}") from error
    stderr = completed.stderr.decode(errors="replace")
    if completed.returncode != 0:
        if "Failed loading language" in stderr or "Error opening data file" in stderr:
            raise TesseractMissing(f"tesseract language missing: {stderr.strip()[:300]}")
        raise TesseractError(f"tesseract exited {completed.returncode}: {stderr.strip()[:300]}")
    return ocr_page_from_tsv(completed.stdout.decode("utf-8", errors="replace"))


def ocr_page_from_tsv(tsv: str) -> OcrPage:
    """Parse Tesseract's TSV output (level 5 rows are words)."""
    page = OcrPage()
    rows = csv.reader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows, None)
    if header is None:
        return page
    for row in rows:
        if len(row) < 12 or row[0] != "5":
            continue
        text = row[11].strip()
        if not text:
            continue
        try:
            page.words.append(
                OcrWord(
                    text=text,
                    confidence=max(0.0, float(row[10])),
                    block=int(row[2]),
                    paragraph=int(row[3]),
                    line=int(row[4]),
                    height=int(row[9]),
                )
            )
        except ValueError:
            logger.debug("tesseract row skipped: %r", row)
    return page
