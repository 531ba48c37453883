"""Compiles a LaTeX document with TeX Live, contained, to prove that it compiles.

Gemini promises LaTeX "that compiles"; we check. The document comes from an untrusted PDF
through a language model, so the engine runs contained:

- in a throwaway directory, removed afterwards, also when the engine was killed (once its
  whole process group is gone) and, at the next compile, when the worker itself was;
- shell escape off (`-no-shell-escape` and kpathsea's `shell_escape=f`);
- reads and writes confined to that directory and TeX Live's own trees (kpathsea's paranoid
  `openin_any=p` / `openout_any=p`, read from the environment before texmf.cnf): no absolute
  paths, no `..`, no dotfiles;
- a wall-clock limit that kills the whole process group (latexmk, pdflatex, mktexpk...);
- a CPU-time limit of its own, enforced by the kernel (`prlimit --cpu`, a little above the
  wall-clock limit), so an endless loop stops even when nobody is left to kill it;
- death with its parent (`setpriv --pdeathsig KILL`): a worker killed with SIGKILL (OOM,
  node loss) takes its engine along; what the engine started itself (pdflatex under
  latexmk) is stopped by its own CPU-time limit at the latest;
- a cap on every file it writes, enforced by the kernel (`prlimit --fsize`), on their
  total and on their number (LATEXOCR_COMPILE_MAX_FILES), checked while it runs;
- an environment holding no secret of ours (it is built from scratch, not inherited);
- nothing that needs the network: TeX Live reads only its local trees.

Why a document failed is read from its log by `tex_errors.py`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from latexocr.tex.errors import MAX_ERRORS, CompileError, log_errors, log_excerpt

JOB_NAME = "document"
# Each compile's throwaway directory, in the system's temporary directory.
COMPILE_DIR_PREFIX = "latex-compile-"
# How often the running engine is checked against the time limit and the output cap.
POLL_INTERVAL_S = 0.05
# CPU seconds granted beyond the wall-clock limit: the wall clock normally stops the engine
# first; the kernel's limit is for when the process that would stop it is dead.
CPU_LIMIT_MARGIN_S = 5

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
    TOO_MANY_FILES = "too_many_files"


@dataclass(frozen=True)
class _Run:
    """What one contained run of the engine left behind."""

    stop: str | None
    log: str
    terminal: str
    pdf: bytes | None
    duration_s: float


def latex_compile(*, source: str, timeout_s: int, max_output_bytes: int) -> CompileResult:
    """Compile `source` with settings.LATEXOCR_COMPILER (e.g. "latexmk -pdf" or "pdflatex")."""
    found = _find_engine()
    if isinstance(found, CompileResult):
        return found
    prlimit, engine_command = found
    setpriv = shutil.which("setpriv")
    # setpriv (util-linux, like prlimit) sets the parent-death signal, kept through exec.
    dies_with_parent = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    run = _run_in_sandbox(
        [
            *dies_with_parent,
            prlimit,
            f"--fsize={max_output_bytes}",
            f"--cpu={timeout_s + CPU_LIMIT_MARGIN_S}",
            "--core=0",
            "--",
            *engine_command,
        ],
        source=source,
        timeout_s=timeout_s,
        max_output_bytes=max_output_bytes,
    )
    page_count = _page_count(run.pdf) if run.pdf else None
    if run.pdf and page_count:
        return CompileResult(
            compiled=True,
            pdf=run.pdf,
            page_count=page_count,
            errors=[],
            log_excerpt="",
            duration_s=run.duration_s,
            skipped_reason=None,
        )
    errors = _stop_errors(run.stop, timeout_s=timeout_s, max_output_bytes=max_output_bytes)
    errors += log_errors(log=run.log, source=source, terminal=run.terminal)
    if not errors:
        errors = [
            CompileError(
                line=None,
                template=gettext_noop("La compilation a échoué sans message d’erreur reconnu."),
            )
        ]
    return CompileResult(
        compiled=False,
        pdf=None,
        page_count=None,
        errors=errors[:MAX_ERRORS],
        log_excerpt=log_excerpt(run.log or run.terminal),
        duration_s=run.duration_s,
        skipped_reason=None,
    )


def _find_engine() -> tuple[str, list[str]] | CompileResult:
    """prlimit's path and the engine's command line, or a skipped result saying what is missing."""
    command = shlex.split(settings.LATEXOCR_COMPILER)
    if not command:
        return skipped_result(
            gettext("Vérification désactivée : aucun compilateur LaTeX configuré.")
        )
    engine = shutil.which(command[0])
    if engine is None:
        return skipped_result(
            gettext(
                "Vérification impossible : le compilateur « %(engine)s » est absent du serveur."
            )
            % {"engine": command[0]}
        )
    # prlimit comes with util-linux, which Debian marks essential; without it there would be
    # no kernel-enforced cap on what the engine writes.
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return skipped_result(
            gettext("Vérification impossible : prlimit (util-linux) est absent du serveur.")
        )
    return prlimit, [
        engine,
        *command[1:],
        # latexmk's rc files are Perl, run with our rights: never read them.
        *(["-norc"] if Path(engine).name == "latexmk" else []),
        *ENGINE_OPTIONS,
        f"{JOB_NAME}.tex",
    ]


def _run_in_sandbox(
    arguments: list[str], *, source: str, timeout_s: int, max_output_bytes: int
) -> _Run:
    """Write `source` in a throwaway directory, run `arguments` there contained, read the rest."""
    started = time.monotonic()
    compile_dirs_sweep(older_than_s=2 * timeout_s + CPU_LIMIT_MARGIN_S)
    with tempfile.TemporaryDirectory(prefix=COMPILE_DIR_PREFIX) as root:
        # The engine's terminal output lands beside its directory, out of reach of the
        # document (paranoid mode refuses "..").
        workdir = Path(root) / "work"
        workdir.mkdir()
        (workdir / f"{JOB_NAME}.tex").write_text(source, encoding="utf-8")
        terminal_path = Path(root) / "terminal.txt"
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
        if stop is None and len(_written_sizes(workdir)) > settings.LATEXOCR_COMPILE_MAX_FILES:
            stop = _Stop.TOO_MANY_FILES
        pdf_path = workdir / f"{JOB_NAME}.pdf"
        return _Run(
            stop=stop,
            log=_read_capped(workdir / f"{JOB_NAME}.log", max_output_bytes),
            terminal=_read_capped(terminal_path, max_output_bytes),
            pdf=(
                pdf_path.read_bytes()
                if stop is None and returncode == 0 and pdf_path.is_file()
                else None
            ),
            duration_s=time.monotonic() - started,
        )


def skipped_result(reason: str) -> CompileResult:
    """A compile that did not run, with the reason why."""
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
        else:
            sizes = _written_sizes(cwd)
            if len(sizes) > settings.LATEXOCR_COMPILE_MAX_FILES:
                stop = _Stop.TOO_MANY_FILES
            elif sum(sizes) > max_output_bytes:
                stop = _Stop.OVERSIZE
        if stop is not None:
            # The group leader is not reaped yet, so its group id cannot have been reused.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            returncode = process.wait()
            # The rest of the group may still be writing in the directory for a moment; removing
            # it before they are gone fails ("Directory not empty") and leaves it behind.
            _wait_until_group_gone(process.pid)
            return returncode, stop


def _wait_until_group_gone(group: int, *, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while _group_running(group) and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_S)


def _group_running(group: int) -> bool:
    """Whether a process of `group` still runs (zombies do not: they write nothing, and a
    worker running as PID 1 may never reap them)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
            state, _parent, process_group = stat.read_text().rpartition(")")[2].split()[:3]
            if int(process_group) == group and state != "Z":
                return True
    return False


def compile_dirs_sweep(*, older_than_s: float) -> int:
    """Remove the compile directories a killed worker left (its own cleanup never ran).

    No live compile's directory is that old: each ends within its wall-clock limit.
    """
    cutoff = time.time() - older_than_s
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{COMPILE_DIR_PREFIX}*"):
        with contextlib.suppress(OSError):  # removed meanwhile, or not ours
            if path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path)
                removed += 1
    return removed


def _written_sizes(directory: Path) -> list[int]:
    """Sizes of the files the engine wrote (the source we wrote does not count).

    Stops listing one past LATEXOCR_COMPILE_MAX_FILES: a document writing files in a loop
    must not make each check slower than the last.
    """
    source = directory / f"{JOB_NAME}.tex"
    limit = settings.LATEXOCR_COMPILE_MAX_FILES
    sizes: list[int] = []
    for path in directory.rglob("*"):
        with contextlib.suppress(OSError):  # removed between the listing and the stat
            if path.is_file() and path != source:
                sizes.append(path.stat().st_size)
        if len(sizes) > limit:
            break
    return sizes


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
        template = gettext_noop(
            "Compilation arrêtée au bout de %(seconds)s s (boucle sans fin dans le document ?)."
        )
        return [CompileError(line=None, template=template, params={"seconds": timeout_s})]
    if stop == _Stop.OVERSIZE:
        template = gettext_noop(
            "Compilation arrêtée : ce qu’elle écrit dépasse %(size)s (boucle sans fin ?)."
        )
        return [CompileError(line=None, template=template, params={"size": max_output_bytes})]
    if stop == _Stop.TOO_MANY_FILES:
        template = gettext_noop(
            "Compilation arrêtée : elle écrit plus de %(count)d fichiers (boucle sans fin ?)."
        )
        params = {"count": settings.LATEXOCR_COMPILE_MAX_FILES}
        return [CompileError(line=None, template=template, params=params)]
    return []
