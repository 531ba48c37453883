"""Compiles a LaTeX document with TeX Live to prove it compiles, and explains why when it does not.

Gemini promises LaTeX "that compiles"; we check. The document comes from an untrusted PDF
through a language model, so the engine runs contained:

- in a throwaway directory, removed afterwards;
- shell escape off (`-no-shell-escape` and kpathsea's `shell_escape=f`);
- reads and writes confined to that directory and TeX Live's own trees (kpathsea's paranoid
  `openin_any=p` / `openout_any=p`, read from the environment before texmf.cnf): no absolute
  paths, no `..`, no dotfiles;
- a wall-clock limit that kills the whole process group (latexmk, pdflatex, mktexpk...);
- a cap on every file it writes, enforced by the kernel (`prlimit --fsize`), and on their
  total, checked while it runs;
- an environment holding no secret of ours (it is built from scratch, not inherited);
- nothing that needs the network: TeX Live reads only its local trees.

The error messages are rewritten in plain French for students, and they also feed the one
repair round (`repair_prompt`).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext, gettext_noop
from pypdf import PdfReader
from pypdf.errors import PyPdfError

JOB_NAME = "document"
# How often the running engine is checked against the time limit and the output cap.
POLL_INTERVAL_S = 0.05
MAX_ERRORS = 3
# Lines of log kept around the first error; enough for the "l.12" context and help text.
LOG_EXCERPT_LINES = 20
LOG_EXCERPT_MAX_CHARS = 4000
REPAIR_PROMPT_PATH = Path(__file__).resolve().parent / "prompts" / "repair.txt"
# Source lines quoted in the repair prompt are cut here: one line is enough to locate a fault.
QUOTED_LINE_MAX_CHARS = 200
# Characters of a runaway argument looked up in the source to find the line it starts on.
RUNAWAY_MATCH_CHARS = 20

# kpathsea reads these from the environment before texmf.cnf. The line lengths keep an
# error's context ("l.12 \foo") and its message on whole lines instead of TeX's 79 columns.
ENGINE_ENVIRONMENT = {
    "openin_any": "p",
    "openout_any": "p",
    "shell_escape": "f",
    "file_line_error_style": "f",
    "max_print_line": "1000",
    "error_line": "254",
    "half_error_line": "238",
    "LANG": "C.UTF-8",
}
ENGINE_OPTIONS = ["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape"]

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
    """One error of the compiler, in plain French; `line` is in the compiled source."""

    line: int | None
    message: str


@dataclass(frozen=True)
class CompileResult:
    compiled: bool
    pdf: bytes | None
    page_count: int | None
    errors: list[CompileError]
    log_excerpt: str
    duration_s: float
    # Set when no compilation was attempted (no engine configured or installed).
    skipped_reason: str | None


class _Stop:
    """Why the engine was stopped before it finished on its own."""

    TIMEOUT = "timeout"
    OVERSIZE = "oversize"


def latex_compile(*, source: str, timeout_s: int, max_output_bytes: int) -> CompileResult:
    """Compile `source` with settings.LATEXOCR_COMPILER (e.g. "latexmk -pdf" or "pdflatex")."""
    command = shlex.split(settings.LATEXOCR_COMPILER)
    if not command:
        return _skipped(gettext("Vérification désactivée : aucun compilateur LaTeX configuré."))
    engine = shutil.which(command[0])
    if engine is None:
        return _skipped(
            gettext(
                "Vérification impossible : le compilateur « %(engine)s » est absent du serveur."
            )
            % {"engine": command[0]}
        )
    # prlimit comes with util-linux, which Debian marks essential; without it there would be
    # no kernel-enforced cap on what the engine writes.
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return _skipped(
            gettext("Vérification impossible : prlimit (util-linux) est absent du serveur.")
        )

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="latex-compile-") as root:
        # The engine's terminal output lands beside its directory, out of reach of the
        # document (paranoid mode refuses "..").
        workdir = Path(root) / "work"
        workdir.mkdir()
        (workdir / f"{JOB_NAME}.tex").write_text(source, encoding="utf-8")
        terminal_path = Path(root) / "terminal.txt"
        arguments = [
            prlimit,
            f"--fsize={max_output_bytes}",
            "--core=0",
            "--",
            engine,
            *command[1:],
            # latexmk's rc files are Perl, run with our rights: never read them.
            *(["-norc"] if Path(engine).name == "latexmk" else []),
            *ENGINE_OPTIONS,
            f"{JOB_NAME}.tex",
        ]
        environment = {
            **ENGINE_ENVIRONMENT,
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(workdir),
            "TMPDIR": str(workdir),
            "TEXMFOUTPUT": str(workdir),
        }
        with terminal_path.open("wb") as terminal:
            returncode, stop = _run_contained(
                arguments,
                cwd=workdir,
                environment=environment,
                output=terminal,
                timeout_s=timeout_s,
                max_output_bytes=max_output_bytes,
            )
        if stop is None and max(_written_sizes(workdir), default=0) >= max_output_bytes:
            # The kernel cut a file at the cap (SIGXFSZ): the engine stopped on its own.
            stop = _Stop.OVERSIZE
        log = _read_capped(workdir / f"{JOB_NAME}.log", max_output_bytes)
        terminal_text = _read_capped(terminal_path, max_output_bytes)
        pdf_path = workdir / f"{JOB_NAME}.pdf"
        pdf = (
            pdf_path.read_bytes()
            if stop is None and returncode == 0 and pdf_path.is_file()
            else None
        )
    duration_s = time.monotonic() - started

    page_count = _page_count(pdf) if pdf else None
    if pdf and page_count:
        return CompileResult(
            compiled=True,
            pdf=pdf,
            page_count=page_count,
            errors=[],
            log_excerpt="",
            duration_s=duration_s,
            skipped_reason=None,
        )
    errors = _stop_errors(stop, timeout_s=timeout_s, max_output_bytes=max_output_bytes)
    errors += log_errors(log=log, source=source, terminal=terminal_text)
    if not errors:
        errors = [
            CompileError(
                line=None,
                message=gettext("La compilation a échoué sans message d'erreur reconnu."),
            )
        ]
    return CompileResult(
        compiled=False,
        pdf=None,
        page_count=None,
        errors=errors[:MAX_ERRORS],
        log_excerpt=log_excerpt(log or terminal_text),
        duration_s=duration_s,
        skipped_reason=None,
    )


def _skipped(reason: str) -> CompileResult:
    return CompileResult(
        compiled=False,
        pdf=None,
        page_count=None,
        errors=[],
        log_excerpt="",
        duration_s=0.0,
        skipped_reason=reason,
    )


def _run_contained(
    arguments: list[str],
    *,
    cwd: Path,
    environment: dict[str, str],
    output: io.BufferedWriter,
    timeout_s: int,
    max_output_bytes: int,
) -> tuple[int, str | None]:
    """Run the engine in its own process group; kill the group on timeout or oversize."""
    deadline = time.monotonic() + timeout_s
    process = subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        arguments,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stop: str | None = None
    while True:
        try:
            return process.wait(timeout=POLL_INTERVAL_S), stop
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() >= deadline:
            stop = _Stop.TIMEOUT
        elif sum(_written_sizes(cwd)) > max_output_bytes:
            stop = _Stop.OVERSIZE
        if stop is not None:
            # The group leader is not reaped yet, so its group id cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            return process.wait(), stop


def _written_sizes(directory: Path) -> list[int]:
    """Sizes of the files the engine wrote (the source we wrote does not count)."""
    source = directory / f"{JOB_NAME}.tex"
    return [
        path.stat().st_size for path in directory.rglob("*") if path.is_file() and path != source
    ]


def _read_capped(path: Path, limit: int) -> str:
    if not path.is_file():
        return ""
    with path.open("rb") as file:
        return file.read(limit).decode("utf-8", errors="replace")


def _page_count(pdf: bytes) -> int | None:
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PyPdfError, ValueError, OSError):
        return None


def _stop_errors(stop: str | None, *, timeout_s: int, max_output_bytes: int) -> list[CompileError]:
    if stop == _Stop.TIMEOUT:
        message = gettext(
            "Compilation arrêtée au bout de %(seconds)s s (boucle sans fin dans le document ?)."
        ) % {"seconds": timeout_s}
        return [CompileError(line=None, message=message)]
    if stop == _Stop.OVERSIZE:
        message = gettext(
            "Compilation arrêtée : ce qu'elle écrit dépasse %(size)s (boucle sans fin ?)."
        ) % {"size": filesizeformat(max_output_bytes)}
        return [CompileError(line=None, message=message)]
    return []


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
        match = LAST_COMMAND.search(context.before)
        command = match.group(1) if match else "?"
        package = PACKAGE_OF_COMMAND.get(command)
        if package:
            message = gettext(
                "Commande inconnue : %(command)s (il manque \\usepackage{%(package)s})."
            ) % {"command": command, "package": package}
        else:
            message = gettext(
                "Commande inconnue : %(command)s (faute de frappe ou paquet manquant)."
            ) % {"command": command}
        return CompileError(line=line, message=message)

    missing = MISSING_FILE.match(raw)
    if missing:
        name = missing["name"]
        stem = re.sub(r"\.(tex|sty|cls)$", "", name)
        line = _first_line_containing(source, stem) or line
        if stem in refused_reads or name in refused_reads:
            message = gettext(
                "Lecture interdite : %(name)s (seuls les fichiers du document et de TeX Live "
                "sont permis)."
            ) % {"name": stem}
        else:
            message = gettext(
                "Fichier introuvable : %(name)s (paquet non installé ou nom mal écrit)."
            ) % {"name": name}
        return CompileError(line=line, message=message)

    if raw == "Emergency stop." and context.at_end_of_input:
        return CompileError(
            line=len(source.splitlines()),
            message=gettext("Le document se termine sans \\end{document}."),
        )

    for pattern, template in _SIMPLE_MESSAGES:
        match = pattern.match(raw)
        if match:
            if runaway:
                line = line or _runaway_line(source, runaway)
            return CompileError(line=line, message=gettext(template) % match.groupdict())

    return CompileError(line=line, message=gettext("Erreur TeX : %(raw)s") % {"raw": raw})


# (pattern on TeX's message, French message using the pattern's named groups), first match wins.
_SIMPLE_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^Missing \$ inserted\.$"),
        gettext_noop("Formule mathématique hors de $...$, ou $ en trop (un dollar s'écrit \\$)."),
    ),
    (
        re.compile(r"^Misplaced alignment tab character &\.$"),
        gettext_noop("Caractère & hors d'un tableau (il s'écrit \\&)."),
    ),
    (
        re.compile(r"^Extra \}, or forgotten .*\.$"),
        gettext_noop("Accolade fermante } en trop (ou accolade ouvrante manquante)."),
    ),
    (re.compile(r"^Missing \} inserted\.$"), gettext_noop("Accolade fermante } manquante.")),
    (re.compile(r"^Missing \{ inserted\.$"), gettext_noop("Accolade ouvrante { manquante.")),
    (
        re.compile(r"^Argument of (?P<command>\S+) has an extra \}\.$"),
        gettext_noop("Accolade } en trop dans l'argument de %(command)s."),
    ),
    (
        re.compile(r"^File ended while scanning use of (?P<command>\S+?) ?\.$"),
        gettext_noop("Accolade non fermée dans l'argument de %(command)s."),
    ),
    (
        re.compile(r"^Paragraph ended before (?P<command>\S+?) was complete\.$"),
        gettext_noop("Ligne vide dans l'argument de %(command)s (accolade non fermée ?)."),
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
        gettext_noop("Retour à la ligne \\\\ à un endroit où il n'y a pas de ligne à terminer."),
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
        gettext_noop("Caractère # hors d'une définition (il s'écrit \\#)."),
    ),
    (
        re.compile(r"^LaTeX Error: Command (?P<command>\S+) invalid in math mode\.$"),
        gettext_noop("%(command)s est interdit dans une formule (un $ est-il resté ouvert ?)."),
    ),
    (
        re.compile(r"^Missing number, treated as zero\.$"),
        gettext_noop("Nombre attendu à cet endroit (option d'un paquet non chargé ?)."),
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


def repair_prompt(*, source: str, errors: list[CompileError]) -> str:
    """The request for a corrected complete document, sent with the compiler's errors."""
    source_lines = source.splitlines()
    listed = []
    for error in errors:
        if error.line is not None and 1 <= error.line <= len(source_lines):
            quoted = source_lines[error.line - 1].strip()[:QUOTED_LINE_MAX_CHARS]
            listed.append(f"- ligne {error.line} ({quoted}) : {error.message}")
        else:
            listed.append(f"- {error.message}")
    template = Template(REPAIR_PROMPT_PATH.read_text(encoding="utf-8"))
    return template.substitute(errors="\n".join(listed), source=source)
