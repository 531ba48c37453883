"""The local engine on scans: quality, seconds per page on one core, memory on a 100-page scan.

Real text-layer pages are turned into image-only PDFs (each page rendered at 300 dpi in grey,
as a scanner would give it), converted by the local engine (Tesseract), and the words of the
LaTeX, markup stripped, are compared with the original page's text layer:

- French: five pages of the French LaTeX2e reference manual ("Manuel de référence officieux",
  latexref.xyz/fr, as shipped by Debian's texlive-lang-french; licence: verbatim and modified
  copies allowed, its page 2 with the licence is the corpus' first page and is measured too),
  prose and the mathematics chapter; bench/ocr_corpus/latex2e-fr-pages.pdf.
- English: bench/ocr_corpus/functions-en.tex (written for this repository, public domain,
  prose with inline mathematics), compiled with pdflatex at bench time.

The reference is the text layer as the local engine cleans it (accents recombined), so a
difference is Tesseract's, not pdfTeX's accent glyphs.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import psutil

from bench.bench_latexocr import WORKER_LIMIT_MIB
from bench.report import INFO, Row, spread, verdict
from bench.stack import Stack, tree_pss

CORPUS = Path(__file__).resolve().parent / "ocr_corpus"
FRENCH_PDF = CORPUS / "latex2e-fr-pages.pdf"
ENGLISH_SOURCE = CORPUS / "functions-en.tex"
CER_GOALS = {"French": 0.03, "English": 0.02}
SECONDS_PER_PAGE_GOAL = 5.0
SCAN_PAGES = 100
MEMORY_NOTE_MIB = WORKER_LIMIT_MIB


def _english_pdf(workdir: Path) -> bytes:
    if shutil.which("pdflatex") is None:
        raise RuntimeError("pdflatex is not installed (scripts/system-packages installs it)")
    shutil.copy(ENGLISH_SOURCE, workdir / ENGLISH_SOURCE.name)
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", ENGLISH_SOURCE.name],
        cwd=workdir,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return (workdir / ENGLISH_SOURCE.with_suffix(".pdf").name).read_bytes()


def _reference_pages(pdf: bytes) -> list[str]:
    """Each page's text layer as PDFium extracts it (the most faithful spacing), with the
    accents recombined and the words hyphenated at line ends joined."""
    import pypdfium2 as pdfium

    from latexocr.engines.text_layer import text_clean

    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            text = page.get_textpage().get_text_bounded()
            # PDFium marks a hyphen it found at a line end as \x02.
            text = re.sub(r"\x02\s*", "", text)
            pages.append(text_clean(" ".join(text.split()), ascii_accents=False))
        return pages
    finally:
        document.close()


_SYMBOLS = {"leq": "≤", "geq": "≥", "neq": "≠", "in": "∈", "rightarrow": "→", "mu": "µ"}
_TEXT_COMMANDS = {
    "texteuro": "€",
    "textbullet": "•",
    "textbackslash": "\\",
    "textasciicircum": "^",
    "textasciitilde": "~",
}


def latex_words(latex: str) -> list[str]:
    """The LaTeX of one page as plain words: comments, commands and braces removed."""
    text = "\n".join(line for line in latex.splitlines() if not line.lstrip().startswith("%"))
    text = re.sub(
        r"\\ensuremath\{\\([A-Za-z]+)\}", lambda match: _SYMBOLS.get(match.group(1), ""), text
    )
    text = re.sub(r"\\([A-Za-z]+)\{\}", lambda match: _TEXT_COMMANDS.get(match.group(1), ""), text)
    text = re.sub(r"\\textsu(?:b|per)script", "", text)
    text = re.sub(r"\\(?:sub)?section\*|\\newpage|\\mbox", " ", text)
    text = re.sub(r"(?<!\\)[{}]", "", text)
    text = re.sub(r"\\([%&$#_{}])", r"\1", text)
    return normalise(text).split()


def normalise(text: str) -> str:
    """NFC, one kind of quote and dash, single spaces: what OCR cannot be asked to tell apart."""
    text = unicodedata.normalize("NFC", text)
    for variants, plain in (("’‘", "'"), ("“”«»", '"'), ("−–—‐", "-")):
        for variant in variants:
            text = text.replace(variant, plain)
    return " ".join(text.split())


def edit_distance(first: list[str] | str, second: list[str] | str) -> int:
    """Levenshtein distance (characters of strings, or items of lists)."""
    if len(first) < len(second):
        first, second = second, first
    previous = list(range(len(second) + 1))
    for index, item in enumerate(first, start=1):
        current = [index]
        for other_index, other in enumerate(second, start=1):
            current.append(
                min(
                    previous[other_index] + 1,
                    current[other_index - 1] + 1,
                    previous[other_index - 1] + (item != other),
                )
            )
        previous = current
    return previous[-1]


def _page_latex(latex: str) -> list[str]:
    body = latex.split("\\begin{document}", 1)[1].rsplit("\\end{document}", 1)[0]
    return re.split(r"^% Page \d+\n", body, flags=re.M)[1:]


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the Tesseract runs): what the
    work costs on one core, whatever else the machine is running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(pdf: bytes, language: str) -> dict[str, Any]:
    """Convert the image-only version of `pdf` on one core and compare page by page."""
    from django.test import override_settings

    from latexocr.engines.local_engine import read_locally
    from tests.pdfs import image_only_pdf

    references = _reference_pages(pdf)
    scan = image_only_pdf(pdf, dpi=300)
    cores = os.sched_getaffinity(0)
    # One core for this process and the Tesseract processes it starts.
    os.sched_setaffinity(0, {min(cores)})
    try:
        with override_settings(LATEXOCR_LOCAL_PARALLEL_PAGES=1):
            cpu_before = _cpu_seconds()
            started = time.perf_counter()
            reading = read_locally(pdf=scan)
            total_s = time.perf_counter() - started
            cpu_s = _cpu_seconds() - cpu_before
    finally:
        os.sched_setaffinity(0, cores)
    cers, word_accuracies = [], []
    for reference, page_latex in zip(references, _page_latex(reading.latex), strict=True):
        reference_text = normalise(reference)
        hypothesis_words = latex_words(page_latex)
        cers.append(edit_distance(reference_text, " ".join(hypothesis_words)) / len(reference_text))
        reference_words = reference_text.split()
        word_accuracies.append(
            1 - edit_distance(reference_words, hypothesis_words) / len(reference_words)
        )
    return {
        "language": language,
        "pages": len(references),
        "cer": statistics.median(cers),
        "cers": cers,
        "word_accuracy": statistics.median(word_accuracies),
        "seconds": [page.seconds for page in reading.pages],
        "total_s": total_s,
        "cpu_s": cpu_s,
        "confidences": [page.confidence or 0.0 for page in reading.pages],
        "flagged": len(reading.page_issues),
    }


_WORKER = """
import sys, django
django.setup()
from latexocr.engines.local_engine import read_locally
with open(sys.argv[1], "rb") as source:
    reading = read_locally(pdf=source.read())
print(len(reading.pages), len(reading.page_issues))
"""


def _scan_memory(pdfs: list[bytes], pages: int, workdir: Path) -> tuple[int, float, str]:
    """Peak PSS of a worker-like process (and its Tesseract children) converting a scan of
    `pages` pages (the corpus pages repeated), and its wall time."""
    from django.conf import settings
    from pypdf import PdfReader, PdfWriter

    from tests.pdfs import image_only_pdf

    writer = PdfWriter()
    sources = [PdfReader(__import__("io").BytesIO(image_only_pdf(pdf))) for pdf in pdfs]
    source_pages = [page for reader in sources for page in reader.pages]
    for index in range(pages):
        writer.add_page(source_pages[index % len(source_pages)])
    path = workdir / "scan.pdf"
    with path.open("wb") as output:
        writer.write(output)
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_site.settings",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    started = time.perf_counter()
    process = psutil.Popen(
        [sys.executable, "-c", _WORKER, str(path)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_pss(process))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    output, errors = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the scan conversion failed: {errors.decode()[-500:]}")
    parallel = settings.LATEXOCR_LOCAL_PARALLEL_PAGES
    # The last line is the script's own (Django's start-up may log before it).
    counts = output.decode().strip().splitlines()[-1]
    return peak, seconds, f"{counts} (pages, flagged); {parallel} in parallel"


def local_ocr(stack: Stack, quick: bool) -> list[Row]:
    from latexocr.engines.tesseract import tesseract_available

    if not tesseract_available():
        raise RuntimeError("Tesseract (fra, eng) is not installed (scripts/system-packages)")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        corpora = {"French": FRENCH_PDF.read_bytes(), "English": _english_pdf(workdir)}
        results = [_measure(pdf, language) for language, pdf in corpora.items()]
        for result in results:
            goal = CER_GOALS[result["language"]]
            rows.append(
                Row(
                    scenario=f"Local OCR quality, printed {result['language']} pages at 300 dpi",
                    figure=(
                        f"median character error {result['cer']:.1%}, word accuracy "
                        f"{result['word_accuracy']:.1%} ({result['pages']} pages)"
                    ),
                    value=round(result["cer"], 4),
                    unit="CER",
                    compared_against="the page's own text layer (cleaned)",
                    goal=f"CER ≤ {goal:.0%}",
                    verdict=verdict(result["cer"] <= goal),
                    note=(
                        f"Per page CER: {', '.join(f'{cer:.1%}' for cer in result['cers'])}; "
                        f"Tesseract confidence {spread(result['confidences'])}; "
                        f"{result['flagged']} page(s) flagged. The LaTeX's words, markup "
                        "stripped, against the text layer's; quotes and spaces normalised."
                    ),
                )
            )
        page_count = sum(result["pages"] for result in results)
        cpu_per_page = sum(result["cpu_s"] for result in results) / page_count
        wall = [second for result in results for second in result["seconds"]]
        rows.append(
            Row(
                scenario="Local OCR, seconds per scanned page on one core (300 dpi)",
                figure=(
                    f"{cpu_per_page:.1f} s of CPU a page; wall time on the pinned core "
                    f"median {statistics.median(wall):.1f} s ({spread(wall)})"
                ),
                value=round(cpu_per_page, 2),
                unit="s",
                compared_against="—",
                goal=f"≤ {SECONDS_PER_PAGE_GOAL:.0f} s",
                verdict=verdict(cpu_per_page <= SECONDS_PER_PAGE_GOAL),
                note=(
                    "Render (pypdfium2, grey, PNG) + Tesseract 5 -l fra+eng, one page at a "
                    "time, the harness and its Tesseract processes pinned to one core, over the "
                    f"{page_count} corpus pages. The figure is CPU time (the harness' own and its "
                    "Tesseract children's), which is what one free core takes; the wall time "
                    "also counts whatever else ran on that core."
                ),
            )
        )
        pages = 20 if quick else SCAN_PAGES
        peak, wall_s, detail = _scan_memory(list(corpora.values()), pages, workdir)
        rows.append(
            Row(
                scenario=f"Local OCR, worker peak memory on a {pages}-page scan",
                figure=f"peak {peak / 2**20:.0f} MiB, {wall_s:.0f} s ({wall_s / pages:.1f} s/page)",
                value=round(peak / 2**20, 1),
                unit="MiB",
                compared_against=f"the worker pod's limit, {MEMORY_NOTE_MIB} MiB",
                goal="—",
                verdict=INFO,
                note=(
                    "PSS of a Python process running local_engine.read_locally on the "
                    "corpus pages rendered to images and repeated, with its Tesseract children, "
                    f"sampled every 50 ms; {detail}."
                ),
            )
        )
    return rows
