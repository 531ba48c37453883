"""Turn an answer into safe HTML: highlighted code, sanitised explanation, syntax check.

The old service inserted the LLM's explanation into the page as HTML. Here the code is
highlighted by Pygments (which escapes it) and the explanation goes through Markdown then
nh3 with a short allow-list, so no markup written by the LLM reaches the page as markup.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from markdown.extensions import Extension
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


class _RawHtmlAsText(Extension):
    """Markdown without its raw-HTML pass-through: `<script>` written by the LLM is shown as
    text (escaped), the way a student expects to read it, instead of being dropped."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


@dataclass(frozen=True)
class SyntaxReport:
    valid: bool
    line: int | None = None
    message: str = ""


def code_highlight(code: str) -> SafeString:
    """The code as Pygments HTML (classes styled by static/codegen/pygments.css)."""
    return mark_safe(highlight(code, PythonLexer(), _FORMATTER))  # noqa: S308 - Pygments escapes the code


def explanation_render(explanation: str) -> SafeString:
    """Markdown rendered (raw HTML escaped) then sanitised; headings sit below the page's."""
    html = markdown.markdown(
        explanation, extensions=["fenced_code", "tables", "sane_lists", _RawHtmlAsText()]
    )
    for level in (2, 1):
        html = html.replace(f"<h{level}", "<h3").replace(f"</h{level}>", "</h3>")
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


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
