"""LaTeX OCR: a 60-page PDF in page ranges converted in parallel against one single call (the
fake Gemini answering in a time proportional to its answer's length), and the web process
tree's memory while 10 users upload 20 MB PDFs at once."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import psutil
import requests

from bench.report import INFO, Row, spread, verdict
from bench.stack import HTTP_TIMEOUT_S, Stack, login, tree_pss, users_create
from tests.pdfs import pdf_of_size, pdf_with_text

PAGES = 60
RANGES_GOAL_RATIO = 1 / 3
UPLOADERS = 10
UPLOAD_BYTES = 20_000_000
MEMORY_GOAL_MIB = 512


def _page_text(number: int) -> str:
    return (
        f"Exercice {number} : étudier la fonction f(x) = x^2 + {number}x.\n"
        "1. Calculer la dérivée.\n2. Dresser le tableau de variations."
    )


def _complete(latex: str) -> bool:
    """Every page's exercise is there, in page order, and the document is closed."""
    position = 0
    for number in range(1, PAGES + 1):
        found = latex.find(f"Exercice {number} :", position)
        if found < 0:
            return False
        position = found
    return latex.rstrip().endswith("\\end{document}")


def _convert(pdf: bytes, **overrides: int) -> tuple[float, bool, int]:
    from django.conf import settings
    from django.test import override_settings

    from latexocr.engines.backends import convert_with_gemini

    with override_settings(**overrides):
        started = time.perf_counter()
        result = convert_with_gemini(
            pdf=pdf,
            page_count=PAGES,
            model=settings.LATEXOCR_GEMINI_MODEL,
            on_progress=lambda done: None,
        )
        return time.perf_counter() - started, _complete(result.latex), result.gemini_calls


def ocr_ranges(stack: Stack, quick: bool) -> list[Row]:
    from django.conf import settings
    from django.test import override_settings

    from latexocr.engines.backends import range_size

    pace, rounds = (0.4, 1) if quick else (2.0, 2)
    gemini_url = stack.fake_gemini(seconds_per_1000_chars=pace)
    pdf = pdf_with_text([_page_text(number) for number in range(1, PAGES + 1)])
    smallest = settings.LATEXOCR_PAGES_PER_CALL
    parallel_calls = settings.LATEXOCR_PARALLEL_CALLS
    size = range_size(page_count=PAGES)
    ranged, single, ratios, fixed_ratios = [], [], [], []
    complete = complete_fixed = True
    calls = fixed_calls = 0
    with override_settings(GEMINI_API_KEY="bench-fake-key", GEMINI_BASE_URL=gemini_url):
        for _ in range(rounds):
            seconds, whole, calls = _convert(pdf)
            ranged.append(seconds)
            complete = complete and whole
            seconds, whole, _calls = _convert(
                pdf,
                LATEXOCR_PAGES_PER_CALL=PAGES,
                LATEXOCR_MAX_PAGES_PER_CALL=PAGES,
                LATEXOCR_PARALLEL_CALLS=1,
            )
            single.append(seconds)
            complete = complete and whole
            ratios.append(ranged[-1] / single[-1])
            # Before issue 19: ranges of exactly LATEXOCR_PAGES_PER_CALL pages.
            seconds, whole, fixed_calls = _convert(pdf, LATEXOCR_MAX_PAGES_PER_CALL=smallest)
            fixed_ratios.append(seconds / single[-1])
            complete_fixed = complete_fixed and whole
    ratio = statistics.median(ratios)
    fixed_ratio = statistics.median(fixed_ratios)
    return [
        Row(
            scenario=f"{PAGES}-page PDF, page ranges in parallel",
            figure=(
                f"{statistics.median(ranged):.1f} s = {ratio:.2f} of one call; "
                f"{'nothing truncated' if complete else 'TRUNCATED'}"
            ),
            value=round(ratio, 3),
            unit="ratio",
            compared_against=f"one single call: {statistics.median(single):.1f} s",
            goal="≤ 1/3 (0.33), nothing truncated",
            verdict=verdict(ratio <= RANGES_GOAL_RATIO and complete),
            note=(
                f"latexocr.engines.backends.convert_with_gemini in the harness process with the "
                f"defaults (LATEXOCR_PAGES_PER_CALL={smallest}, LATEXOCR_MAX_PAGES_PER_CALL="
                f"{settings.LATEXOCR_MAX_PAGES_PER_CALL}, LATEXOCR_PARALLEL_CALLS="
                f"{parallel_calls}: ranges of {size} pages, {calls} calls in one wave), against "
                f"the same with {PAGES} pages in 1 call. The fake Gemini (its own process) "
                f"answers in {pace} s per 1,000 characters of answer; every page's text checked "
                f"in order in the merged document. Ratio over {rounds} round(s): "
                f"{spread(ratios)}. The ideal is 1/{calls} plus one preamble per range."
            ),
        ),
        Row(
            scenario=f"{PAGES}-page PDF, fixed ranges of {smallest} pages (before issue 19)",
            figure=(
                f"{fixed_ratio:.2f} of one call ({fixed_calls} calls over {parallel_calls}: "
                f"two waves); {'nothing truncated' if complete_fixed else 'TRUNCATED'}"
            ),
            value=round(fixed_ratio, 3),
            unit="ratio",
            compared_against="one single call (same rounds)",
            goal="— (the former sizing, for comparison)",
            verdict=INFO,
            note=(
                f"The same conversion with LATEXOCR_MAX_PAGES_PER_CALL={smallest}: every range "
                f"of {smallest} pages, as before range_size(). Rounds: {spread(fixed_ratios)}."
            ),
        ),
    ]


class _Sampler:
    """Peak PSS of a process tree, sampled every 20 ms from a thread."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_pss(self.process))
            self._stop.wait(0.02)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _upload(base_url: str, session: requests.Session, pdf: bytes, start: threading.Barrier) -> int:
    start.wait()
    response = session.post(
        f"{base_url}/ocr/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        files={"pdf": ("sujet.pdf", pdf, "application/pdf")},
        # A new connection each round: one kept alive from the previous round may be closed
        # by gunicorn (keepalive 5 s) just as the POST starts, which `requests` does not
        # retry (browsers do).
        headers={"Connection": "close"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT_S,
    )
    return response.status_code


def _traced_upload_peak(pdfs: list[bytes], *, username: str) -> int:
    """The peak of Python's own allocations (tracemalloc) while the upload view takes one PDF
    in the harness process, after a first upload untraced (imports, caches warm)."""
    import tracemalloc

    from django.test import RequestFactory

    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User
    from latexocr.views.conversions import upload

    user = User.objects.get(username=username)
    peak = 0
    for number, pdf in enumerate(pdfs):
        request = RequestFactory().post(
            "/ocr/", {"pdf": _named_file(pdf), "csrfmiddlewaretoken": "unused"}
        )
        request.user = user
        request._dont_enforce_csrf_checks = True  # type: ignore[attr-defined]
        traced = number == len(pdfs) - 1
        if traced:
            tracemalloc.start()
        try:
            response = upload(cast(AuthenticatedHttpRequest, request))
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if response.status_code != 302:
            raise RuntimeError(f"the traced upload was answered {response.status_code}")
    return peak


def _named_file(data: bytes) -> object:
    import io

    file = io.BytesIO(data)
    file.name = "sujet.pdf"
    return file


UPLOAD_USER_PREFIX = "bench-upload"
GROWTH_GOAL = 0.05


def upload_memory(stack: Stack, quick: bool) -> list[Row]:
    rounds = 2 if quick else 10
    names = users_create(prefix=UPLOAD_USER_PREFIX, count=UPLOADERS)
    # No task worker: the conversions stay queued; the web pod's memory is what is measured.
    # No MALLOC_* variable either (bench.stack sets none): gunicorn.conf.py applies them.
    env = {"LATEXOCR_BACKEND": "local", "LATEXOCR_DAILY_QUOTA": "0"}
    peaks, settled, statuses = [], [], []
    with stack.site("gunicorn-upload", env=env) as site:
        master = psutil.Process(site.processes[0].popen.pid)
        sessions = [login(site.base_url, name) for name in names]
        for session in sessions:  # every worker has served a page: warm, like a live pod
            session.get(site.url("/ocr/"), timeout=HTTP_TIMEOUT_S).raise_for_status()
        time.sleep(1.0)
        idle = tree_pss(master)
        for _ in range(rounds):
            # A new PDF each round: the same one again is only offered the earlier result.
            pdf = pdf_of_size([_page_text(number) for number in range(1, 4)], UPLOAD_BYTES)
            start = threading.Barrier(UPLOADERS)
            with _Sampler(master) as sampler, ThreadPoolExecutor(UPLOADERS) as pool:
                statuses += list(
                    pool.map(lambda s, b=start, p=pdf: _upload(site.base_url, s, p, b), sessions)
                )
            peaks.append(sampler.peak)
            time.sleep(1.0)
            settled.append(tree_pss(master))
        workers = len(master.children(recursive=True))
    traced_peak = _traced_upload_peak(
        [pdf_of_size([_page_text(n) for n in range(1, 4)], UPLOAD_BYTES) for _ in range(2)],
        username=names[0],
    )
    mib = 1024 * 1024
    peak = max(peaks) / mib
    # Growth between rounds: after the second round (warm) against after the last.
    base = settled[1] if len(settled) > 1 else settled[0]
    growth = (settled[-1] - base) / base
    accepted = sum(status == 302 for status in statuses)
    return [
        Row(
            scenario=f"web pod memory (PSS) while {UPLOADERS} users upload 20 MB PDFs at once",
            figure=(
                f"peak {peak:.0f} MiB (+{peak - idle / mib:.0f} MiB) over {rounds} rounds; "
                f"{accepted}/{len(statuses)} uploads accepted; growth from round 2 to round "
                f"{rounds}: {growth * 100:+.1f} %"
            ),
            value=round(peak, 1),
            unit="MiB",
            compared_against=f"idle: {idle / mib:.0f} MiB",
            goal=f"< {MEMORY_GOAL_MIB} MiB, all accepted, growth < {GROWTH_GOAL * 100:.0f} %",
            verdict=verdict(
                peak < MEMORY_GOAL_MIB and accepted == len(statuses) and growth < GROWTH_GOAL
            ),
            note=(
                f"Sum of the proportional set size (PSS, what the pod's memory cgroup "
                f"charges) of the gunicorn master and its {workers} workers as gunicorn.conf.py "
                f"runs them (uvicorn workers, the image's default; no MALLOC_* variable in the "
                f"environment: gunicorn.conf.py applies its own), sampled every 20 ms with "
                f"psutil. {UPLOADERS} logged-in users POST a {UPLOAD_BYTES:,}-byte PDF to /ocr/ "
                f"at the same instant, a new PDF each round. Peak per round: "
                f"{', '.join(f'{p / mib:.0f}' for p in peaks)} MiB; 1 s after each round: "
                f"{', '.join(f'{p / mib:.0f}' for p in settled)} MiB. tracemalloc of one "
                f"upload through the view in the harness process: peak {traced_peak / mib:.1f} "
                "MiB of Python allocations (the 20 MB PDF itself is never held). The task "
                "worker (its own pod) is not running: conversions stay queued."
            ),
        )
    ]


WORKER_PAGES = 100


def _forget_queued_tasks() -> None:
    """Other scenarios leave conversions queued (no worker ran then): the worker measured here
    must run this scenario's conversion alone, not that backlog first."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status=TaskResultStatus.READY).delete()


WORKER_PDF_BYTES = 20_000_000
WORKER_LIMIT_MIB = 768  # the worker pod's memory limit, k8s/base/worker.yaml


def worker_memory(stack: Stack, quick: bool) -> list[Row]:
    """The task worker's memory (PSS of db_worker and the TeX processes it starts) while it
    converts a 100-page, 20 MB PDF through the fake Gemini and compile-checks the result."""
    import shutil

    from django.test import override_settings

    from accounts.models import User
    from latexocr.conversions.services import conversion_create
    from latexocr.models import Conversion

    compiler = "latexmk -pdf" if shutil.which("latexmk") else ""
    names = users_create(prefix="bench-worker", count=1)
    user = User.objects.get(username=names[0])
    env = {
        **stack.backends_env(),
        "GEMINI_BASE_URL": stack.fake_gemini(seconds_per_1000_chars=0.02),
        "LATEXOCR_COMPILER": compiler,
        "LATEXOCR_DAILY_QUOTA": "0",
    }
    pdf = pdf_of_size([_page_text(n) for n in range(1, WORKER_PAGES + 1)], WORKER_PDF_BYTES)
    _forget_queued_tasks()
    with stack.task_worker(env=env) as worker:
        process = psutil.Process(worker.processes[0].popen.pid)
        time.sleep(3.0)  # started and idle: Django loaded, polling the queue
        idle = tree_pss(process)
        with override_settings(
            LATEXOCR_BACKEND="gemini", GEMINI_API_KEY="bench-fake-key", LATEXOCR_DAILY_QUOTA=0
        ):
            conversion = conversion_create(
                owner=user,
                pdf=pdf,
                original_filename="cent-pages.pdf",
                page_count=WORKER_PAGES,
                allow_duplicate=True,
            )
        started = time.monotonic()
        with _Sampler(process) as sampler:
            deadline = started + (300 if quick else 600)
            while time.monotonic() < deadline:
                conversion.refresh_from_db(fields=["status"])
                if conversion.is_finished:
                    break
                time.sleep(0.5)
        seconds = time.monotonic() - started
        settled = tree_pss(process)
    if conversion.status != Conversion.Status.DONE:
        raise RuntimeError(f"the 100-page conversion ended {conversion.status}")
    mib = 1024 * 1024
    peak = sampler.peak / mib
    # The current (newest) version's compile: what the check gave.
    compile_status = conversion.versions.values_list("compile_status", flat=True).first()
    return [
        Row(
            scenario=f"task worker memory (PSS) converting a {WORKER_PAGES}-page 20 MB PDF",
            figure=(
                f"peak {peak:.0f} MiB (+{peak - idle / mib:.0f} MiB) in {seconds:.0f} s; "
                f"compile check: {compile_status}"
            ),
            value=round(peak, 1),
            unit="MiB",
            compared_against=f"idle: {idle / mib:.0f} MiB; 1 s after: {settled / mib:.0f} MiB",
            goal=f"< {WORKER_LIMIT_MIB} MiB (k8s/base/worker.yaml limit)",
            verdict=verdict(peak < WORKER_LIMIT_MIB),
            note=(
                f"manage.py db_worker (one task at a time) with the fake Gemini answering in "
                f"0.02 s per 1,000 characters; a {WORKER_PDF_BYTES:,}-byte PDF of "
                f"{WORKER_PAGES} text pages (padded with an unreferenced stream) converted in "
                f"ranges, LATEXOCR_PARALLEL_CALLS at once, then the compile check "
                f"(LATEXOCR_COMPILER={compiler or 'none: latexmk missing'!r}) of the merged "
                "document. PSS of the worker and its children (latexmk, pdflatex) sampled "
                "every 20 ms."
            ),
        )
    ]
