"""Every colour of the code highlighting reads at 4.5:1 or more (WCAG 1.4.3, RGAA 3.2)."""

from __future__ import annotations

import re

from django.conf import settings

PYGMENTS_CSS = settings.BASE_DIR / "static" / "codegen" / "pygments.css"
CODE_BACKGROUND = "#f6f8fa"  # .codegen-code .highlight in static/codegen/codegen.css
COLOUR = re.compile(r"\.highlight \.\w+ \{ color: (#[0-9a-fA-F]{3,6})")


def relative_luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(2 * digit for digit in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_of_black_on_white_is_21() -> None:
    assert round(contrast("#000", "#ffffff"), 1) == 21.0


def test_every_highlight_colour_reaches_4_5_to_1_on_the_code_background() -> None:
    colours = COLOUR.findall(PYGMENTS_CSS.read_text())

    assert len(colours) > 20
    too_light = {c: round(contrast(c, CODE_BACKGROUND), 2) for c in colours}
    assert {c: ratio for c, ratio in too_light.items() if ratio < 4.5} == {}
