"""A PDF's text layer as clean paragraphs and headings, for the local engine.

pypdf's plain `extract_text` gives what the glyphs say, which for pdfTeX documents means
accents as separate spacing characters (`Pr´eface`, `bo^ıte`, `con¸cu`), ligature glyphs,
words cut at line ends, and lines without paragraphs. Here the text comes through pypdf's
visitor, which also tells each piece's position and font size: lines are rebuilt with those,
paragraphs are cut where the vertical gap, the indent or a short last line say so, larger
type (or a numbered title) becomes a heading, and the text is cleaned (accents recombined to
NFC, ligatures split, hyphenation joined).
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from pypdf import PageObject

# Spacing accents as pdfTeX's fonts report them, and the combining mark each stands for.
SPACING_ACCENTS = {
    "\N{ACUTE ACCENT}": "\u0301",
    "\N{GRAVE ACCENT}": "\u0300",
    "\N{CIRCUMFLEX ACCENT}": "\u0302",
    "\N{MODIFIER LETTER CIRCUMFLEX ACCENT}": "\u0302",
    "\N{DIAERESIS}": "\u0308",
    "\N{SMALL TILDE}": "\u0303",
    "\N{CEDILLA}": "\u0327",
    "\N{CARON}": "\u030c",
    "\N{BREVE}": "\u0306",
    "\N{DOT ABOVE}": "\u0307",
    "\N{RING ABOVE}": "\u030a",
    "\N{MACRON}": "\u0304",
    "\N{DOUBLE ACUTE ACCENT}": "\u030b",
}
# ASCII ` and ^ are accents only when they make a letter French or English text uses.
ASCII_ACCENT_RESULTS = set("àâèéêëîïôûùüçÀÂÈÉÊËÎÏÔÛÙÜÇ")
_ACCENT_BEFORE_LETTER = re.compile(
    "([" + re.escape("".join(SPACING_ACCENTS)) + r"])([^\W\d_]|ı|ȷ)", re.UNICODE
)
_CEDILLA_AFTER_LETTER = re.compile("([cCsStT])\N{CEDILLA}")
LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
# A word cut at a line end: a letter and a hyphen (or soft hyphen), then a lowercase letter.
_HYPHEN_AT_END = re.compile(r"[^\W\d_][-\u00ad\x02]$")

NUMBERED_TITLE = re.compile(
    r"^(?:(?:Exercice|Exercise|Problème|Problem|Partie|Part|Chapitre|Chapter|Section|"
    r"Annexe|Appendix)\s+[\dIVXLA-Z]{1,6}\b|\d+(?:\.\d+)+\.?\s+\S)",
)
TITLE_MAX_CHARS = 90
_DOT_LEADERS = re.compile(r"(?:\. ?){4,}")
_PAGE_NUMBER = re.compile(r"^(?:\d+|[ivxlc]+)$", re.IGNORECASE)


def _compose(match: re.Match[str], *, ascii_accents: bool) -> str:
    accent, letter = match.group(1), match.group(2)
    base = {"ı": "i", "ȷ": "j"}.get(letter, letter)
    composed = unicodedata.normalize("NFC", base + SPACING_ACCENTS[accent])
    if len(composed) != 1:
        return match.group(0)
    if accent in "`^" and (not ascii_accents or composed not in ASCII_ACCENT_RESULTS):
        return match.group(0)
    return composed


def text_clean(text: str, *, ascii_accents: bool = True) -> str:
    """Accents recombined (`´e` → `é`, `bo^ıte` → `boîte`), ligatures split, NFC.

    `ascii_accents`: whether ASCII ` and ^ before a letter are accents (they are in pdfTeX's
    text fonts, not in typewriter fonts, where `x^a` is code).
    """
    text = text.translate(LIGATURES)
    text = _ACCENT_BEFORE_LETTER.sub(
        lambda match: _compose(match, ascii_accents=ascii_accents), text
    )
    text = _CEDILLA_AFTER_LETTER.sub(
        lambda match: unicodedata.normalize("NFC", match.group(1) + "\u0327"), text
    )
    return unicodedata.normalize("NFC", text.replace("\x02", "-"))


def lines_join(lines: list[str]) -> str:
    """Lines of one paragraph as one string; a word hyphenated across lines is joined."""
    joined = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if joined and _HYPHEN_AT_END.search(joined) and line[0].islower():
            joined = joined[:-1] + line
        elif joined and _HYPHEN_AT_END.search(joined):
            joined = joined[:-1] + "-" + line  # Jean-/Pierre: a compound, not a cut word
        else:
            joined = f"{joined} {line}" if joined else line
    return joined


@dataclass
class TextLine:
    text: str
    size: float  # the largest font size on the line, in points
    x: float
    y: float  # the baseline, in PDF units (upwards)


@dataclass(frozen=True)
class TextBlock:
    kind: Literal["section", "subsection", "paragraph"]
    text: str


def page_lines(page: PageObject) -> list[TextLine]:
    """The page's text lines in pypdf's reading order, with position and font size."""
    lines: list[TextLine] = []
    current: list[str] = []
    state: dict[str, float | None] = {"size": None, "x": None, "y": None}

    def end_line() -> None:
        text = "".join(current)
        if text.strip() and state["size"] is not None:
            lines.append(
                TextLine(
                    text=text,
                    size=float(state["size"]),
                    x=float(state["x"] or 0.0),
                    y=float(state["y"] or 0.0),
                )
            )
        current.clear()
        state.update(size=None, x=None, y=None)

    def visit(text: str, cm: list[float], tm: list[float], font: object, font_size: float) -> None:
        a, b, _c, _d, e, f = (float(value) for value in tm)
        ca, cb, cc, cd, ce, cf = (float(value) for value in cm)
        size = abs(font_size) * math.hypot(a * ca + b * cc, a * cb + b * cd)
        x, y = ca * e + cc * f + ce, cb * e + cd * f + cf
        for index, part in enumerate(text.split("\n")):
            if index:
                end_line()
            if not part:
                continue
            current.append(text_clean(part, ascii_accents=not _monospace(font)))
            if part.strip():
                if state["x"] is None:
                    state.update(x=x, y=y)
                state["size"] = max(size, state["size"] or 0.0)

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _monospace(font: object) -> bool:
    name = str(font.get("/BaseFont", "")) if isinstance(font, dict) else ""
    return any(marker in name for marker in ("TT", "Mono", "Courier", "Code", "Consol"))


def body_font_size(pages: list[list[TextLine]]) -> float:
    """The font size most of the characters are set in."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size * 2) / 2] += len(line.text.strip())
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _line_kind(line: TextLine, body_size: float) -> Literal["section", "subsection", "paragraph"]:
    text = line.text.strip()
    if (
        len(text) > TITLE_MAX_CHARS
        or not any(char.isalpha() for char in text)
        or _DOT_LEADERS.search(text)  # a table of contents' entry
    ):
        return "paragraph"
    if line.size >= body_size * 1.25:
        return "section"
    if line.size >= body_size * 1.1:
        return "subsection"
    if NUMBERED_TITLE.match(text) and not text.endswith((".", ",", ";")):
        return "subsection"
    return "paragraph"


def page_blocks(lines: list[TextLine], *, body_size: float) -> list[TextBlock]:
    """Headings and paragraphs of one page, its text cleaned."""
    if not lines:
        return []
    gaps = [
        previous.y - line.y
        for previous, line in itertools.pairwise(lines)
        if 0 < previous.y - line.y < 3 * body_size
    ]
    spacing = statistics.median(gaps) if gaps else body_size * 1.2
    lengths = [len(line.text.strip()) for line in lines]
    full_line = statistics.median(lengths) if lengths else 0
    left_margin = min(line.x for line in lines)

    blocks: list[TextBlock] = []
    kind: Literal["section", "subsection", "paragraph"] | None = None
    current: list[str] = []
    previous: TextLine | None = None

    def flush() -> None:
        if current and kind is not None:
            text = text_clean(lines_join(current), ascii_accents=False)
            if text:
                blocks.append(TextBlock(kind=kind, text=text))
        current.clear()

    for line in lines:
        line_kind = _line_kind(line, body_size)
        if previous is None or line_kind != kind:
            new_block = True
        elif line_kind != "paragraph":
            new_block = previous.y - line.y > 1.6 * spacing  # a title on two lines stays one
        else:
            gap = previous.y - line.y
            indented = line.x - previous.x > 0.8 * body_size and (
                line.x - left_margin < 3 * body_size
            )
            short_before = len(previous.text.strip()) < 0.6 * full_line
            new_block = gap <= 0 or gap > 1.45 * spacing or indented or short_before
        if new_block:
            flush()
            kind = line_kind
        current.append(line.text)
        previous = line
    flush()
    return blocks


def repeated_lines(pages: list[list[TextLine]]) -> set[str]:
    """Running heads and feet: first/last lines that recur (digits aside) on many pages."""
    if len(pages) < 3:
        return set()
    seen: Counter[str] = Counter()
    for lines in pages:
        for text in {_without_digits(line.text) for line in lines[:1] + lines[-1:]}:
            seen[text] += 1
    return {text for text, count in seen.items() if text and count >= max(3, len(pages) // 3)}


def _without_digits(text: str) -> str:
    return re.sub(r"\d+", "", text).strip()


def strip_page_furniture(lines: list[TextLine], repeated: set[str]) -> list[TextLine]:
    """The lines without the running head/foot and a page number alone on the first/last line."""
    if len(lines) < 2:
        return lines  # a page holding one line holds its content, not its number
    edges = {id(line) for line in (lines[:1] + lines[-1:])}
    return [
        line
        for line in lines
        if not (
            id(line) in edges
            and (_without_digits(line.text) in repeated or _PAGE_NUMBER.match(line.text.strip()))
        )
    ]
