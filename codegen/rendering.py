"""Turn an answer into safe HTML: highlighted code, sanitised explanation, syntax check.

The code is highlighted by Pygments (which escapes it) and the explanation goes through
Markdown then nh3 with a short allow-list, so no markup written by the LLM reaches the page
as markup.

The Markdown parser is markdown-it-py (CommonMark) under a size bound: python-markdown took
17 to 23 s of CPU on an explanation ending in 8,000 `[`, and minutes on 24,000. The
explanation is rendered once, when the answer is saved (`Question.explanation_html`), never
on a page view.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

# What Markdown produces for prose, lists, code and tables; no images, no raw HTML.
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "strong", "em", "code", "pre", "blockquote",
        "ul", "ol", "li", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td", "a",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https"})

_FORMATTER = HtmlFormatter(cssclass="highlight")
# Built once: nh3.clean() would build the same allow-lists again for every answer.
_SANITISER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=set(ALLOWED_URL_SCHEMES),
    link_rel="nofollow noopener noreferrer",
)


# CommonMark plus tables. `html: False`: `<script>` written by the LLM is shown as text
# (escaped), the way a student expects to read it, instead of being dropped. The preset's
# nesting limit (20) bounds blockquotes and lists nested by a hostile reply.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# markdown-it-py is linear on ordinary text but its link-label scan grows with the square
# of a run of `[` (40,000 characters of "![" take 1.4 s). An explanation is a few kilobytes;
# a longer one is shown as plain paragraphs (escaped), which is linear whatever it holds.
MARKDOWN_MAX_CHARS = 20_000


@dataclass(frozen=True)
class SyntaxReport:
    valid: bool
    line: int | None = None
    message: str = ""


def code_highlight(code: str) -> SafeString:
    """The code as Pygments HTML (classes styled by static/codegen/pygments.css)."""
    return mark_safe(highlight(code, PythonLexer(), _FORMATTER))  # noqa: S308 - Pygments escapes the code


def explanation_render(explanation: str) -> SafeString:
    """Markdown rendered (raw HTML escaped) then sanitised; headings sit below the page's.

    Linear in the length of `explanation`; called when an answer is saved, not per view.
    """
    if len(explanation) > MARKDOWN_MAX_CHARS:
        # Every character escaped: only our own <p> tags are markup (nh3 is skipped: its
        # time grows faster than the text on long runs of entities).
        return mark_safe(  # noqa: S308 - the text is escaped whole
            "".join(
                f"<p>{escape(paragraph.strip())}</p>"
                for paragraph in explanation.split("\n\n")
                if paragraph.strip()
            )
        )
    html = _MARKDOWN.render(explanation)
    for level in (2, 1):
        html = html.replace(f"<h{level}", "<h3").replace(f"</h{level}>", "</h3>")
    return mark_safe(_SANITISER.clean(html))  # noqa: S308 - sanitised by nh3 just above


def syntax_check(code: str) -> SyntaxReport:
    """Whether `code` parses as Python (never run), with the line of the first error."""
    try:
        ast.parse(code)
    except SyntaxError as error:
        return SyntaxReport(valid=False, line=error.lineno, message=error.msg)
    except (RecursionError, MemoryError, ValueError):
        # Nested too deeply for the parser, or a NUL byte: not code a student can use as is.
        return SyntaxReport(valid=False, message=_("Code impossible à analyser."))
    return SyntaxReport(valid=True)
