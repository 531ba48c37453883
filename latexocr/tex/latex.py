"""LaTeX text handling: cleaning model answers, merging page ranges, building from plain text.

Pure functions on strings, so every rule here is tested without a model or a database.
Each one is linear in the length of its input (a model's answer is hostile input: a
backtracking fence pattern takes 59 s on 200 KB): fences are found with str methods, the
patterns use possessive quantifiers, and statements are joined once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from latexocr.engines.text_layer import TextBlock
from latexocr.engines.unicode_latex import LATEX_SPECIALS, unicode_to_latex

DEFAULT_DOCUMENTCLASS = r"\documentclass[11pt,a4paper]{article}"
# Used when no answer brought a preamble of its own (the model answered with a bare body).
BASELINE_PACKAGES: list[tuple[str, str]] = [
    ("inputenc", "utf8"),
    ("fontenc", "T1"),
    ("babel", "french"),
    ("amsmath", ""),
    ("amssymb", ""),
]
# Packages that must come after the others (hyperref patches what was loaded before it).
LOADED_LAST = ("hyperref", "cleveref")

FENCE = "```"
FENCE_OPENING = re.compile(r"```[ \t]*+(?:latex|tex|LaTeX)?+[ \t]*+\n")
FENCE_CLOSING = re.compile(r"\n[ \t]*+```")
USEPACKAGE = re.compile(
    r"\s*+\\usepackage\s*+(?:\[(?P<options>[^\]]*+)\])?+\s*+\{(?P<names>[^}]*+)\}"
)
DEFINITION = re.compile(
    r"\s*+\\(?:newcommand|renewcommand|providecommand|DeclareMathOperator|newtheorem|"
    r"newenvironment|renewenvironment|def)\*?+\s*+\{?+\s*+(?P<name>\\?+[A-Za-z@]++)"
)
COMMENT = re.compile(r"(?<!\\)%.*")
# Commands that belong once per document, at its start: dropped from later ranges.
ONCE_PER_DOCUMENT = re.compile(r"\s*+\\(?:maketitle|tableofcontents)\s*+")


def latex_strip_fences(answer: str) -> str:
    """The LaTeX inside an answer: code fences and any chatter around the document removed."""
    text = answer.strip()
    if FENCE in text:
        blocks = _fenced_blocks(text)
        if blocks:
            text = max(blocks, key=len).strip()
    start = text.find(r"\documentclass")
    if start > 0:
        text = text[start:]
    end = text.rfind(r"\end{document}")
    if end != -1:
        text = text[: end + len(r"\end{document}")]
    return text.strip()


def _fenced_blocks(text: str) -> list[str]:
    """The bodies of the ```latex / ```tex / ``` blocks; the last one may be left open.

    One pass: each search resumes where the previous block ended, and the possessive blanks
    are never re-scanned.
    """
    blocks: list[str] = []
    position = 0
    while (opening := FENCE_OPENING.search(text, position)) is not None:
        closing = FENCE_CLOSING.search(text, opening.end())
        if closing is None:
            blocks.append(text[opening.end() :])
            break
        blocks.append(text[opening.end() : closing.start()])
        position = closing.end()
    return blocks


@dataclass
class _Document:
    documentclass: str | None
    preamble: list[str]
    body: str


def _split(text: str) -> _Document:
    begin = text.find(r"\begin{document}")
    if begin == -1:
        return _Document(documentclass=None, preamble=[], body=text.strip())
    head = text[:begin]
    end = text.rfind(r"\end{document}")
    body = text[begin + len(r"\begin{document}") : end if end != -1 else len(text)]
    documentclass = None
    preamble: list[str] = []
    for statement in _statements(head):
        if documentclass is None and statement.lstrip().startswith(r"\documentclass"):
            documentclass = statement.strip()
        else:
            preamble.append(statement)
    return _Document(documentclass=documentclass, preamble=preamble, body=body.strip())


def _statements(preamble: str) -> list[str]:
    """Preamble lines grouped so that a definition spanning lines stays one statement."""
    # Lists of lines, joined once at the end: re-joining a statement each time a line is
    # added to it would be quadratic.
    statements: list[list[str]] = []
    current: list[str] = []
    depth = 0
    for line in preamble.splitlines():
        if not current and not line.strip():
            continue
        if not current and statements and line.lstrip().startswith(("{", "[")):
            # An argument on its own line continues the statement above it.
            current = statements.pop()
        current.append(line)
        code = COMMENT.sub("", line.replace(r"\{", "").replace(r"\}", ""))
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            statements.append(current)
            current, depth = [], 0
    if current:
        statements.append(current)
    return ["\n".join(lines) for lines in statements]


def _usepackage_line(name: str, options: str) -> str:
    return f"\\usepackage[{options}]{{{name}}}" if options else f"\\usepackage{{{name}}}"


def latex_merge(answers: list[str]) -> str:
    """One document from the answers for consecutive page ranges, in page order.

    The first `\\documentclass` wins; the preamble is the union of the packages (the first
    options seen for a package win) and of the other statements (a command or theorem defined
    twice is kept once); the bodies follow one another.
    """
    cleaned = [latex_strip_fences(answer) for answer in answers]
    if len(cleaned) == 1 and r"\documentclass" in cleaned[0] and r"\end{document}" in cleaned[0]:
        return cleaned[0] + "\n"

    documents = [_split(text) for text in cleaned]
    documentclass = next((d.documentclass for d in documents if d.documentclass), None)
    packages: dict[str, str] = {}
    others: dict[str, str] = {}
    if documentclass is None:
        packages.update((name, options) for name, options in BASELINE_PACKAGES)
    for document in documents:
        for statement in document.preamble:
            if used := USEPACKAGE.match(statement):
                for name in (n.strip() for n in used.group("names").split(",")):
                    if name:
                        packages.setdefault(name, (used.group("options") or "").strip())
                continue
            defined = DEFINITION.match(statement)
            others.setdefault(defined.group("name") if defined else statement.strip(), statement)

    ordered = [n for n in packages if n not in LOADED_LAST] + [
        n for n in LOADED_LAST if n in packages
    ]
    bodies = [documents[0].body] + [
        "\n".join(line for line in d.body.splitlines() if not ONCE_PER_DOCUMENT.fullmatch(line))
        for d in documents[1:]
    ]
    parts = [
        documentclass or DEFAULT_DOCUMENTCLASS,
        *(_usepackage_line(name, packages[name]) for name in ordered),
        *others.values(),
        "",
        r"\begin{document}",
        "",
        "\n\n".join(body for body in bodies if body.strip()),
        "",
        r"\end{document}",
    ]
    return "\n".join(parts) + "\n"


def latex_escape(text: str) -> str:
    """Plain text as LaTeX source that prints the same characters (pdfLaTeX, T1, utf8)."""
    out = []
    for char in text:
        if char in LATEX_SPECIALS:
            out.append(LATEX_SPECIALS[char])
        elif char in "\n\t" or " " <= char <= "~":
            out.append(char)
        else:
            out.append(unicode_to_latex(char))
    return "".join(out)


LOCAL_PACKAGES = [
    r"\usepackage[utf8]{inputenc}",
    r"\usepackage[T1]{fontenc}",
    r"\usepackage{lmodern}",
    r"\usepackage{textcomp}",
    "{babel}",
    r"\usepackage{amsmath}",
    r"\usepackage{amssymb}",
]
# Frequent short words, to tell the document's language (babel) from its text.
FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "des",
        "une",
        "est",
        "et",
        "du",
        "que",
        "pour",
        "dans",
        "en",
        "pas",
        "sur",
        "avec",
        "ce",
        "qui",
        "au",
        "sont",
        "par",
        "il",
        "elle",
        "nous",
        "vous",
        "on",
        "cette",
        "ces",
        "mais",
        "ou",
        "donc",
        "soit",
        "alors",
        "si",
    ]
)
ENGLISH_WORDS = frozenset(
    [
        "the",
        "and",
        "of",
        "is",
        "to",
        "in",
        "that",
        "for",
        "with",
        "are",
        "this",
        "as",
        "be",
        "by",
        "it",
        "on",
        "an",
        "was",
        "which",
        "from",
        "or",
        "not",
        "we",
        "you",
        "let",
        "then",
        "if",
    ]
)
HEADING_COMMANDS = {"section": r"\section*", "subsection": r"\subsection*"}


def document_languages(text: str) -> list[str]:
    """babel's languages for `text`, the main one last: French, English or both.

    Each language's count of frequent short words decides; the other is loaded too when it
    is clearly present (a French sheet quoting English, a bilingual document). Without any
    clue (formulas only), French: the site's students write in French.
    """
    words = re.findall(r"[^\W\d_]+", text.lower())
    french = sum(word in FRENCH_WORDS for word in words)
    english = sum(word in ENGLISH_WORDS for word in words)
    if english > french:
        return ["french", "english"] if french >= max(5, english // 4) else ["english"]
    return ["english", "french"] if english >= max(5, french // 4) else ["french"]


@dataclass(frozen=True)
class LocalPage:
    """One page of the local engine's document: headings and paragraphs, and a note."""

    blocks: list[TextBlock]
    # Why this page may be incomplete, written as a LaTeX comment above it.
    note: str = ""


def _block_latex(block: TextBlock) -> str:
    text = latex_escape(block.text)
    if block.kind in HEADING_COMMANDS:
        return f"{HEADING_COMMANDS[block.kind]}{{{text}}}"
    return text


def latex_from_local_pages(pages: list[LocalPage]) -> str:
    """A document that compiles with pdfLaTeX: one LaTeX page per PDF page, in order."""
    languages = document_languages(" ".join(block.text for page in pages for block in page.blocks))
    babel = f"\\usepackage[{','.join(languages)}]{{babel}}"
    preamble = "\n".join(
        [DEFAULT_DOCUMENTCLASS, *(babel if line == "{babel}" else line for line in LOCAL_PACKAGES)]
    )
    rendered = []
    for number, page in enumerate(pages, start=1):
        comments = f"% Page {number}\n" + (f"% {page.note}\n" if page.note else "")
        body = "\n\n".join(_block_latex(block) for block in page.blocks) or r"\mbox{}"
        rendered.append(comments + body)
    body = "\n\n\\newpage\n\n".join(rendered)
    return f"{preamble}\n\n\\begin{{document}}\n\n{body}\n\n\\end{{document}}\n"
