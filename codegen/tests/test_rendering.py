from __future__ import annotations

from collections.abc import Callable

import pytest

from codegen.rendering import (
    MARKDOWN_MAX_CHARS,
    code_highlight,
    explanation_render,
    syntax_check,
)
from tests.timing import assert_linear_time


def test_highlighted_code_is_escaped() -> None:
    html = code_highlight('print("<script>alert(1)</script>")')

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'class="highlight"' in html


def test_the_explanation_keeps_markdown_and_drops_raw_html() -> None:
    html = explanation_render(
        "La fonction **trie**.\n\n<script>alert(1)</script>\n\n"
        '<img src=x onerror="alert(1)"> [lien](javascript:alert(1)) `code`'
    )

    assert "<strong>trie</strong>" in html
    assert "<code>code</code>" in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html
    assert 'href="javascript:' not in html


def test_headings_of_the_explanation_sit_below_the_page_headings() -> None:
    assert "<h3>Titre</h3>" in explanation_render("# Titre")


def test_valid_code_parses() -> None:
    assert syntax_check("def f():\n    return 1\n").valid


def test_a_syntax_error_gives_its_line() -> None:
    report = syntax_check("x = 1\ny = (\nz = 3\n")

    assert not report.valid
    assert report.line == 2
    assert report.message


def test_code_nested_too_deeply_is_reported_not_raised() -> None:
    report = syntax_check("(" * 10000 + ")" * 10000)

    assert not report.valid


# A megabyte of what made python-markdown or the old patterns take seconds to minutes.
# A megabyte each when `part` is 1, a quarter of it when 4.
HOSTILE_MEGABYTE: dict[str, Callable[[int], str]] = {
    "brackets": lambda part: "Voir " + "[" * (1_000_000 // part),
    "images": lambda part: "![" * (500_000 // part),
    "emphasis and links": lambda part: "*[" * (500_000 // part),
    "entities": lambda part: "&#" * (500_000 // part),
    "fences": lambda part: "```\n" * (250_000 // part),
    "table": lambda part: "|a" * (250_000 // part) + "\n" + "|-" * (250_000 // part),
    "spaces": lambda part: "#" + " " * (1_000_000 // part) + "x",
}


@pytest.mark.parametrize("text", HOSTILE_MEGABYTE.values(), ids=HOSTILE_MEGABYTE.keys())
def test_a_hostile_megabyte_of_explanation_renders_in_linear_time(
    text: Callable[[int], str],
) -> None:
    html = assert_linear_time(text, explanation_render)

    assert "<script" not in html


def test_a_long_explanation_is_shown_as_escaped_paragraphs() -> None:
    text = "<b>gras</b> " * (MARKDOWN_MAX_CHARS // 10) + "\n\nfin"

    html = explanation_render(text)

    assert html.startswith("<p>&lt;b&gt;gras&lt;/b&gt;")
    assert html.endswith("<p>fin</p>")


def test_the_explanation_is_rendered_a_little_below_the_limit_too() -> None:
    html = explanation_render("[" * (MARKDOWN_MAX_CHARS - 10) + "\n\n**fin**")

    assert "<strong>fin</strong>" in html
