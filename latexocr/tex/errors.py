"""Reads a TeX log and says in plain words what went wrong, and on which line of the source.

`compiler.latex_compile` hands in the log (and the engine's terminal output); the errors it
gets back are shown to students and listed in the repair round's prompt (`checking.py`).

An error keeps its message untranslated (the French source text and its values) and is
translated when it is read: stored with a conversion, it is shown in the language of the
page that shows it, not in the task worker's (`errors_shown`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, gettext_noop

MAX_ERRORS = 3
# Lines of log kept around the first error; enough for the "l.12" context and help text.
LOG_EXCERPT_LINES = 20
LOG_EXCERPT_MAX_CHARS = 4000
# Characters of a runaway argument looked up in the source to find the line it starts on.
RUNAWAY_MATCH_CHARS = 20

# The usual cause of an "Undefined control sequence" in model output: a command whose
# package the preamble forgot.
PACKAGE_OF_COMMAND = {
    r"\mathbb": "amssymb",
    r"\mathfrak": "amssymb",
    r"\varnothing": "amssymb",
    r"\leqslant": "amssymb",
    r"\geqslant": "amssymb",
    r"\therefore": "amssymb",
    r"\text": "amsmath",
    r"\dfrac": "amsmath",
    r"\tfrac": "amsmath",
    r"\binom": "amsmath",
    r"\operatorname": "amsmath",
    r"\DeclareMathOperator": "amsmath",
    r"\eqref": "amsmath",
    r"\boxed": "amsmath",
    r"\xrightarrow": "amsmath",
    r"\intertext": "amsmath",
    r"\SI": "siunitx",
    r"\si": "siunitx",
    r"\qty": "siunitx",
    r"\unit": "siunitx",
    r"\num": "siunitx",
    r"\ang": "siunitx",
    r"\mathscr": "mathrsfs",
    r"\mathds": "dsfont",
    r"\llbracket": "stmaryrd",
    r"\rrbracket": "stmaryrd",
    r"\tikz": "tikz",
    r"\includegraphics": "graphicx",
    r"\toprule": "booktabs",
    r"\midrule": "booktabs",
    r"\bottomrule": "booktabs",
    r"\multirow": "multirow",
    r"\cancel": "cancel",
    r"\ce": "mhchem",
    r"\euro": "eurosym",
    r"\degree": "gensymb",
    r"\celsius": "gensymb",
    r"\textcolor": "xcolor",
    r"\color": "xcolor",
    r"\url": "url",
    r"\href": "hyperref",
}

ERROR_START = "! "
FATAL_SUMMARY = "!  ==>"
CONTEXT_LINE = re.compile(r"^l\.(?P<number>\d+) (?P<before>.*)$")
LAST_COMMAND = re.compile(r"(\\[A-Za-z@]+|\\.)\s*$")
MISSING_FILE = re.compile(r"^LaTeX Error: File `(?P<name>.+)' not found\.$")
NOT_READING = re.compile(r"Not reading from (?P<path>\S+) \(openin_any = p\)")


@dataclass(frozen=True)
class CompileError:
    """One error of the compiler; `line` is in the compiled source.

    `template` is the message's French source text (a msgid), `params` its values.
    """

    line: int | None
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in the active language."""
        return message_translated(self.template, self.params)


def message_translated(template: str, params: dict[str, Any]) -> str:
    values = dict(params)
    if "size" in values:
        # A size is kept in bytes and written the reader's way ("20.0 MB", "20,0 Mo").
        values["size"] = filesizeformat(values["size"])
    return gettext(template) % values if values else gettext(template)


def errors_shown(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored errors (`asdict` of CompileError) as shown: `line` and `message` in the active
    language. Errors stored before 2026-12-01 hold their French `message` only, kept as is."""
    return [
        {
            "line": error.get("line"),
            "message": (
                message_translated(error["template"], error.get("params") or {})
                if "template" in error
                else error.get("message", "")
            ),
        }
        for error in stored
    ]


def log_errors(*, log: str, source: str, terminal: str = "") -> list[CompileError]:
    """The first errors of a TeX log ("! message" then "l.N context"), in plain French.

    `terminal` is the engine's terminal output, where kpathsea says which files paranoid
    mode refused to read.
    """
    lines = log.splitlines()
    refused_reads = {match["path"] for match in NOT_READING.finditer(terminal)}
    errors: list[CompileError] = []
    for index, text in enumerate(lines):
        if not text.startswith(ERROR_START) or text.startswith(FATAL_SUMMARY):
            continue
        raw = text[len(ERROR_START) :].strip()
        context = _error_context(lines, index)
        if raw == "Emergency stop." and errors:
            # A consequence of the error just reported (nonstop mode cannot ask for input).
            continue
        runaway = lines[index - 1] if index >= 2 and lines[index - 2] == "Runaway argument?" else ""
        errors.append(
            _plain_error(
                raw,
                context=context,
                source=source,
                runaway=runaway,
                refused_reads=refused_reads,
            )
        )
        if len(errors) == MAX_ERRORS:
            break
    return errors


@dataclass(frozen=True)
class _Context:
    line: int | None
    before: str
    at_end_of_input: bool


def _error_context(lines: list[str], index: int) -> _Context:
    for text in lines[index + 1 : index + 12]:
        if text.startswith("!"):
            break
        if text.startswith("<*>"):
            # TeX reached the end of the main file while still inside the document.
            return _Context(line=None, before="", at_end_of_input=True)
        match = CONTEXT_LINE.match(text)
        if match:
            return _Context(
                line=int(match["number"]), before=match["before"], at_end_of_input=False
            )
    return _Context(line=None, before="", at_end_of_input=False)


def _plain_error(
    raw: str,
    *,
    context: _Context,
    source: str,
    runaway: str,
    refused_reads: set[str],
) -> CompileError:
    line = context.line
    if raw == "Undefined control sequence.":
        return _undefined_command(context)
    missing = MISSING_FILE.match(raw)
    if missing:
        return _missing_file(missing["name"], line=line, source=source, refused=refused_reads)
    if raw == "Emergency stop." and context.at_end_of_input:
        return CompileError(
            line=len(source.splitlines()),
            template=gettext_noop("Le document se termine sans \\end{document}."),
        )
    for pattern, template in _SIMPLE_MESSAGES:
        match = pattern.match(raw)
        if match:
            if runaway:
                line = line or _runaway_line(source, runaway)
            return CompileError(line=line, template=template, params=match.groupdict())
    return CompileError(
        line=line, template=gettext_noop("Erreur TeX : %(raw)s"), params={"raw": raw}
    )


def _undefined_command(context: _Context) -> CompileError:
    match = LAST_COMMAND.search(context.before)
    command = match.group(1) if match else "?"
    package = PACKAGE_OF_COMMAND.get(command)
    if package:
        return CompileError(
            line=context.line,
            template=gettext_noop(
                "Commande inconnue : %(command)s (il manque \\usepackage{%(package)s})."
            ),
            params={"command": command, "package": package},
        )
    return CompileError(
        line=context.line,
        template=gettext_noop(
            "Commande inconnue : %(command)s (faute de frappe ou paquet manquant)."
        ),
        params={"command": command},
    )


def _missing_file(name: str, *, line: int | None, source: str, refused: set[str]) -> CompileError:
    """A file TeX could not read: absent, or outside what paranoid mode lets it read."""
    stem = re.sub(r"\.(tex|sty|cls)$", "", name)
    line = _first_line_containing(source, stem) or line
    if stem in refused or name in refused:
        return CompileError(
            line=line,
            template=gettext_noop(
                "Lecture interdite : %(name)s (seuls les fichiers du document et de TeX Live "
                "sont permis)."
            ),
            params={"name": stem},
        )
    return CompileError(
        line=line,
        template=gettext_noop(
            "Fichier introuvable : %(name)s (paquet non installé ou nom mal écrit)."
        ),
        params={"name": name},
    )


# (pattern on TeX's message, French message using the pattern's named groups), first match wins.
_SIMPLE_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^Missing \$ inserted\.$"),
        gettext_noop("Formule mathématique hors de $...$, ou $ en trop (un dollar s’écrit \\$)."),
    ),
    (
        re.compile(r"^Misplaced alignment tab character &\.$"),
        gettext_noop("Caractère & hors d’un tableau (il s’écrit \\&)."),
    ),
    (
        re.compile(r"^Extra \}, or forgotten .*\.$"),
        gettext_noop("Accolade fermante } en trop (ou accolade ouvrante manquante)."),
    ),
    (re.compile(r"^Missing \} inserted\.$"), gettext_noop("Accolade fermante } manquante.")),
    (re.compile(r"^Missing \{ inserted\.$"), gettext_noop("Accolade ouvrante { manquante.")),
    (
        re.compile(r"^Argument of (?P<command>\S+) has an extra \}\.$"),
        gettext_noop("Accolade } en trop dans l’argument de %(command)s."),
    ),
    (
        re.compile(r"^File ended while scanning use of (?P<command>\S+?) ?\.$"),
        gettext_noop("Accolade non fermée dans l’argument de %(command)s."),
    ),
    (
        re.compile(r"^Paragraph ended before (?P<command>\S+?) was complete\.$"),
        gettext_noop("Ligne vide dans l’argument de %(command)s (accolade non fermée ?)."),
    ),
    (
        re.compile(
            r"^LaTeX Error: \\begin\{(?P<begin>[^}]+)\} on input line (?P<line>\d+) "
            r"ended by \\end\{(?P<end>[^}]+)\}\.$"
        ),
        gettext_noop("\\begin{%(begin)s} de la ligne %(line)s est fermé par \\end{%(end)s}."),
    ),
    (
        re.compile(r"^LaTeX Error: Environment (?P<name>\S+) undefined\.$"),
        gettext_noop("Environnement inconnu : %(name)s (paquet manquant ?)."),
    ),
    (
        re.compile(r"^LaTeX Error: Missing \\begin\{document\}\.$"),
        gettext_noop("Texte avant \\begin{document} (ou préambule incorrect)."),
    ),
    (
        re.compile(r"^LaTeX Error: There's no line here to end\.$"),
        gettext_noop("Retour à la ligne \\\\ à un endroit où il n’y a pas de ligne à terminer."),
    ),
    (
        re.compile(
            r"^LaTeX Error: Unicode character (?P<character>.+?) \(U\+(?P<code>[0-9A-F]+)\)"
        ),
        gettext_noop(
            "Caractère %(character)s (U+%(code)s) non pris en charge : utiliser la commande LaTeX."
        ),
    ),
    (
        re.compile(r"^Double superscript\.$"),
        gettext_noop("Double exposant : écrire x^{ab} ou {x^a}^b."),
    ),
    (
        re.compile(r"^Double subscript\.$"),
        gettext_noop("Double indice : écrire x_{ab} ou {x_a}_b."),
    ),
    (
        re.compile(r"^Illegal parameter number in definition of .*\.$"),
        gettext_noop("Caractère # hors d’une définition (il s’écrit \\#)."),
    ),
    (
        re.compile(r"^LaTeX Error: Command (?P<command>\S+) invalid in math mode\.$"),
        gettext_noop("%(command)s est interdit dans une formule (un $ est-il resté ouvert ?)."),
    ),
    (
        re.compile(r"^Missing number, treated as zero\.$"),
        gettext_noop("Nombre attendu à cet endroit (option d’un paquet non chargé ?)."),
    ),
    (
        re.compile(r"^Illegal unit of measure"),
        gettext_noop("Longueur sans unité valable (cm, mm, pt...)."),
    ),
    (
        re.compile(r"^Display math should end with \$\$\.$"),
        gettext_noop("Formule centrée mal fermée ($$ ou \\[ ... \\])."),
    ),
    (
        re.compile(r"^You can't use `(?P<command>.+?)' in (?P<mode>.+) mode\.$"),
        gettext_noop("%(command)s est interdit ici (mode %(mode)s)."),
    ),
    (
        re.compile(r"^I can't write on file `(?P<name>.+)'\.$"),
        gettext_noop("Écriture interdite : %(name)s (seul le dossier de compilation est permis)."),
    ),
    (
        re.compile(r"^TeX capacity exceeded, sorry \[(?P<what>.+)\]\.$"),
        gettext_noop("Capacité de TeX dépassée (%(what)s) : boucle ou récursion sans fin ?"),
    ),
    (
        re.compile(r"^Package (?P<package>\S+) Error: (?P<detail>.+)$"),
        gettext_noop("Erreur du paquet %(package)s : %(detail)s"),
    ),
    (re.compile(r"^LaTeX Error: (?P<detail>.+)$"), gettext_noop("Erreur LaTeX : %(detail)s")),
]


def _first_line_containing(source: str, needle: str) -> int | None:
    for number, text in enumerate(source.splitlines(), start=1):
        if needle in text:
            return number
    return None


def _runaway_line(source: str, runaway: str) -> int | None:
    """Where an unclosed argument starts: TeX prints its beginning after "Runaway argument?"."""
    # TeX respaces control words ("\\sqrt {x}"), so spaces are ignored on both sides.
    start = "".join(runaway.split())[:RUNAWAY_MATCH_CHARS]
    if len(start) < RUNAWAY_MATCH_CHARS // 4:
        return None
    for number, text in enumerate(source.splitlines(), start=1):
        if start in "".join(text.split()):
            return number
    return None


def log_excerpt(log: str) -> str:
    """The log from its first error on (or its end when none was found), kept short."""
    lines = log.splitlines()
    first = next(
        (i for i, text in enumerate(lines) if text.startswith(ERROR_START)),
        max(len(lines) - LOG_EXCERPT_LINES, 0),
    )
    return "\n".join(lines[first : first + LOG_EXCERPT_LINES])[:LOG_EXCERPT_MAX_CHARS]
