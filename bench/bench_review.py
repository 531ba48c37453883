"""The review page's loop: from "Enregistrer et compiler" to the new PDF on screen.

A student's edit of a two-page document goes through the real stack: the multipart POST to
gunicorn (production settings), the version saved and queued, `manage.py db_worker` (its
default polling interval, as in k8s/base/worker.yaml) compiling it with latexmk in the
compile sandbox, the page polling the version's status as latexocr.js does, the page reloaded
and the PDF fetched. Measured per edit, each a different text.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import requests

from bench.report import INFO, Row, percentile, spread, verdict
from bench.stack import HTTP_TIMEOUT_S, Stack, login, users_create
from tests.pdfs import pdf_with_text
from tests.servers import PYTHON, LiveSite

GOAL_P50_S = 3.0
# The image's engine (Dockerfile) and the one-pass one, which the page does not need more of
# unless the document has cross-references.
ENGINES = ("latexmk -pdf", "pdflatex")
# latexocr.js: first look after 300 ms, then every 300 ms (see static/js/latexocr.js).
POLL_S = 0.3
TIMEOUT_S = 60.0

TWO_PAGES = r"""\documentclass[11pt,a4paper]{article}
\usepackage[T1]{fontenc}
\usepackage[french]{babel}
\usepackage{amsmath,amssymb}
\begin{document}
\section*{Exercice 1}
Soit $f(x) = x^2 + 3x - 4$ définie sur $\mathbb{R}$.
\begin{enumerate}
  \item Calculer $f'(x)$ et dresser le tableau de variations de $f$.
  \item Résoudre $f(x) = 0$ : $\Delta = 3^2 + 16 = 25$, donc $x = \dfrac{-3 \pm 5}{2}$.
\end{enumerate}
\begin{equation}
  \int_0^1 f(x)\,\mathrm{d}x = \frac{1}{3} + \frac{3}{2} - 4
\end{equation}
\newpage
\section*{Exercice 2}
On pose $u_0 = 1$ et $u_{n+1} = \frac{1}{2}u_n + 3$ pour tout $n \in \mathbb{N}$.
\begin{align}
  v_n &= u_n - 6, \\
  v_{n+1} &= \tfrac{1}{2} v_n.
\end{align}
%% EDIT
\end{document}
"""


def _conversion_for(username: str) -> str:
    """A done conversion of `username` with its version 1 (created in the harness process)."""
    import io

    from accounts.models import User
    from latexocr.conversions.storage import pdf_store
    from latexocr.models import Conversion, Version

    pdf = pdf_with_text(["Exercice 1", "Exercice 2"])
    conversion = Conversion.objects.create(
        owner=User.objects.get(username=username),
        original_filename="feuille.pdf",
        size_bytes=len(pdf),
        page_count=2,
        sha256="0" * 64,
        backend=Conversion.Backend.GEMINI,
        status=Conversion.Status.DONE,
        latex=TWO_PAGES,
    )
    pdf_store(conversion=conversion, pdf=io.BytesIO(pdf))
    Version.objects.create(
        conversion=conversion,
        number=1,
        origin=Version.Origin.ORIGINAL,
        latex=TWO_PAGES,
        compile_status=Version.CompileStatus.SKIPPED,
    )
    return str(conversion.pk)


def _edit_to_pdf(session: requests.Session, page_url: str, text: str) -> tuple[float, float, int]:
    """Seconds from the POST to the new PDF fetched, seconds of the POST alone, PDF size."""
    started = time.perf_counter()
    response = session.post(
        f"{page_url}edit/",
        files={"latex": (None, text)},
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=True,
        timeout=HTTP_TIMEOUT_S,
    )
    response.raise_for_status()
    posted = time.perf_counter() - started
    status_url = response.text.split('data-status-url="', 1)[1].split('"', 1)[0]
    base = page_url.split("/ocr/", 1)[0]
    state: dict[str, Any] = {}
    while time.perf_counter() - started < TIMEOUT_S:
        time.sleep(POLL_S)
        state = session.get(base + status_url, timeout=HTTP_TIMEOUT_S).json()
        if not state["compiling"]:
            break
    if not state.get("pdf_url"):
        raise RuntimeError(f"no PDF after the edit: {state}")
    # The page reloads, then the browser loads the PDF in its frame.
    session.get(page_url, timeout=HTTP_TIMEOUT_S).raise_for_status()
    pdf = session.get(base + state["pdf_url"], timeout=HTTP_TIMEOUT_S)
    pdf.raise_for_status()
    return time.perf_counter() - started, posted, len(pdf.content)


def _compile_seconds(conversion_id: str) -> list[float]:
    from latexocr.models import Version

    durations = Version.objects.filter(conversion_id=conversion_id, number__gt=2).values_list(
        "compile_duration_s", flat=True
    )
    return [d for d in durations if d is not None]


def review_recompile(stack: Stack, quick: bool) -> list[Row]:
    rows: list[Row] = []
    for engine in ENGINES:
        rows += _review_recompile(stack, quick=quick, engine=engine)
    return rows


def _review_recompile(stack: Stack, *, quick: bool, engine: str) -> list[Row]:
    edits = 5 if quick else 20
    env = {"LATEXOCR_COMPILER": engine, "LATEXOCR_RECOMPILES_PER_HOUR": "0"}
    (username,) = users_create(prefix="bench-review", count=1)
    conversion_id = _conversion_for(username)
    worker = LiveSite(base_url="", env={**stack.env, **env}, workdir=stack.workdir)
    seconds: list[float] = []
    posts: list[float] = []
    size = 0
    try:
        # As in production (k8s/base/worker.yaml): db_worker's default interval (1 s).
        worker.start("db_worker-review", [PYTHON, "manage.py", "db_worker", "--no-startup-delay"])
        with stack.site("review", env=env) as site:
            session = login(site.base_url, username)
            page_url = f"{site.base_url}/ocr/{conversion_id}/"
            session.get(page_url, timeout=HTTP_TIMEOUT_S).raise_for_status()
            for number in range(edits + 1):
                text = TWO_PAGES.replace("%% EDIT", f"Modification {number}.")
                took, posted, size = _edit_to_pdf(session, page_url, text)
                if number:  # the first one warms TeX Live's caches up
                    seconds.append(took)
                    posts.append(posted)
    finally:
        worker.stop_all()
    compiles = _compile_seconds(conversion_id)
    p50 = statistics.median(seconds)
    return [
        Row(
            scenario=f"review: edit → new PDF on screen (2 pages, {engine})",
            figure=f"p50 {p50:.2f} s, p90 {percentile(seconds, 90):.2f} s",
            value=round(p50, 3),
            unit="s",
            compared_against=f"the compile alone: p50 {statistics.median(compiles):.2f} s",
            goal=f"p50 < {GOAL_P50_S:.0f} s",
            verdict=verdict(p50 < GOAL_P50_S),
            note=(
                f"{edits} edits of a two-page exercise sheet ({size} bytes of PDF), each a new "
                f"text: multipart POST to gunicorn, version queued, db_worker (default 1 s "
                f"interval) compiling with `{engine}` in the compile sandbox, the status polled "
                f"every {POLL_S} s like latexocr.js, page reloaded, PDF fetched. "
                f"All: {spread(seconds)} s; compiles: {spread(compiles)} s."
            ),
        ),
        Row(
            scenario=f"review: the edit's POST (save + redirect + page), {engine}",
            figure=f"p50 {statistics.median(posts) * 1000:.0f} ms",
            value=round(statistics.median(posts), 4),
            unit="s",
            verdict=INFO,
            note=(
                "No request waits for TeX: the POST answers once the version is saved and "
                f"queued (redirect to the page included). All: {spread(posts)} s."
            ),
        ),
    ]
