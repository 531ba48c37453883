r"""Cut an LLM's reply into the Python code and its explanation.

Replies come in every shape: other fence tags than "```python", several blocks, no fence,
CRLF, a fence left open when the answer was cut, the "**Explication :**" marker spelt a dozen
ways. This is one pure function over the text, so every shape is a line in a table test.

Every step is linear in the length of the reply: the patterns use possessive quantifiers
(no backtracking between neighbouring `\s*`) and nothing rescans the text per block, so a
hostile megabyte of fences, spaces or brackets costs milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

PYTHON_TAGS = frozenset({"python", "py", "python3"})

# The fence itself; the info string (the rest of the line, no backtick in it) is cut with
# str methods, which cannot backtrack.
FENCE_OPENING = re.compile(r"\s{0,3}+(?P<fence>`{3,}+|~{3,}+)")

_MARKER_WORD = (
    r"(?:explications?|explanation)"
    r"(?:\s+(?:du\s+code|de\s+la\s+solution|du\s+programme|of\s+the\s+(?:code|solution)))?"
)
_EMPHASIS = r"(?:\*\*|__|\*|_)"
# "**Explication :**", "**Explication** :", "Explication:", "## Explication :" — a colon ends
# the marker and the explanation may start on the same line.
MARKER_WITH_COLON = re.compile(
    rf"\s*+(?:\#{{1,6}}+\s*+)?+{_EMPHASIS}?+\s*+{_MARKER_WORD}\s*+{_EMPHASIS}?+\s*+[:\uff1a]"
    rf"\s*+{_EMPHASIS}?+\s*+",
    re.IGNORECASE,
)
# "## Explication", "**Explication**", "Explication" alone on its line.
MARKER_ALONE = re.compile(
    rf"\s*+(?:\#{{1,6}}+\s*+)?+{_EMPHASIS}?+\s*+{_MARKER_WORD}\s*+{_EMPHASIS}?+\s*+\#*+\s*+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedReply:
    code: str
    explanation: str


@dataclass(frozen=True)
class _Segment:
    """Consecutive prose lines, or one fenced block (`tag` None for prose)."""

    lines: tuple[str, ...]
    tag: str | None = None
    fence: str = ""

    @property
    def is_fence(self) -> bool:
        return self.tag is not None

    def as_markdown(self) -> str:
        if not self.is_fence:
            return "\n".join(self.lines)
        return "\n".join((f"{self.fence}{self.tag}", *self.lines, self.fence))


def reply_parse(reply: str) -> ParsedReply:
    """The code (Python fenced blocks, else untagged ones) and the explanation of `reply`."""
    segments = _segments(reply.replace("\r\n", "\n").replace("\r", "\n").strip())
    fences = [segment for segment in segments if segment.is_fence]
    code_blocks = [segment for segment in fences if segment.tag in PYTHON_TAGS] or [
        segment for segment in fences if segment.tag == ""
    ]
    code = "\n\n".join(_block_text(block) for block in code_blocks if _block_text(block))

    explanation = _explanation_after_marker(segments, code_blocks)
    if explanation is None:
        explanation = "\n\n".join(
            "\n".join(segment.lines).strip() for segment in segments if not segment.is_fence
        ).strip()
    return ParsedReply(
        code=code,
        explanation=explanation or _("Le modèle n’a donné aucune explication avec ce code."),
    )


def _fence(line: str) -> tuple[str, str] | None:
    """(fence, info string) when `line` is a fence line, else None."""
    opening = FENCE_OPENING.match(line)
    if opening is None:
        return None
    info = line[opening.end() :].strip()
    if "`" in info:
        return None
    return opening["fence"], info


def _segments(text: str) -> list[_Segment]:
    segments: list[_Segment] = []
    prose: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _fence(lines[index])
        if opening is None:
            prose.append(lines[index])
            index += 1
            continue
        if prose:
            segments.append(_Segment(lines=tuple(prose)))
            prose = []
        fence, info_string = opening
        info = info_string.split()
        body: list[str] = []
        index += 1
        # A closing fence is the same character, at least as long, with nothing after it;
        # an answer cut by the output limit leaves the last block open to the end.
        while index < len(lines):
            closing = _fence(lines[index])
            if closing and not closing[1] and closing[0].startswith(fence):
                index += 1
                break
            body.append(lines[index])
            index += 1
        segments.append(
            _Segment(lines=tuple(body), tag=info[0].lower() if info else "", fence=fence)
        )
    if prose:
        segments.append(_Segment(lines=tuple(prose)))
    return segments


def _block_text(block: _Segment) -> str:
    return "\n".join(block.lines).strip("\n").rstrip()


def _explanation_after_marker(segments: list[_Segment], code_blocks: list[_Segment]) -> str | None:
    """The text after the first explanation marker found outside code (None: no marker).

    Blocks already taken as code are left out, so a marker placed before the code does not
    repeat the code in the explanation.
    """
    taken = {id(block) for block in code_blocks}
    for position, segment in enumerate(segments):
        if segment.is_fence:
            continue
        for line_number, line in enumerate(segment.lines):
            marker = MARKER_WITH_COLON.match(line) or MARKER_ALONE.fullmatch(line)
            if marker is None:
                continue
            rest_of_line = line[marker.end() :].strip()
            parts = ["\n".join((rest_of_line, *segment.lines[line_number + 1 :]))]
            parts.extend(
                later.as_markdown() for later in segments[position + 1 :] if id(later) not in taken
            )
            return "\n\n".join(part.strip() for part in parts if part.strip())
    return None
