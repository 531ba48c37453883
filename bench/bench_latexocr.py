"""LaTeX OCR: a 60-page PDF in page ranges converted in parallel against one single call (the
fake Gemini answering in a time proportional to its answer's length), and the web process
tree's memory while 10 users upload 20 MB PDFs at once."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import requests

from bench.report import INFO, Row, spread, verdict
from bench.stack import HTTP_TIMEOUT_S, Stack, login, users_create
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


def _convert(pdf: bytes, *, pages_per_call: int, parallel_calls: int) -> tuple[float, bool, int]:
    from django.conf import settings
    from django.test import override_settings

    from latexocr.backends import convert_with_gemini

    with override_settings(
        LATEXOCR_PAGES_PER_CALL=pages_per_call, LATEXOCR_PARALLEL_CALLS=parallel_calls
    ):
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

    pace, rounds = (0.4, 1) if quick else (2.0, 2)
    gemini_url = stack.fake_gemini(seconds_per_1000_chars=pace)
    pdf = pdf_with_text([_page_text(number) for number in range(1, PAGES + 1)])
    pages_per_call = settings.LATEXOCR_PAGES_PER_CALL
    parallel_calls = settings.LATEXOCR_PARALLEL_CALLS
    ranged, single, ratios, one_wave_ratios = [], [], [], []
    # Enough parallel calls for every range at once: what the goal needs.
    one_wave = -(-PAGES // pages_per_call)
    complete = complete_one_wave = True
    calls = 0
    with override_settings(GEMINI_API_KEY="bench-fake-key", GEMINI_BASE_URL=gemini_url):
        for _ in range(rounds):
            seconds, whole, calls = _convert(
                pdf, pages_per_call=pages_per_call, parallel_calls=parallel_calls
            )
            ranged.append(seconds)
            complete = complete and whole
            seconds, whole, _calls = _convert(pdf, pages_per_call=PAGES, parallel_calls=1)
            single.append(seconds)
            complete = complete and whole
            ratios.append(ranged[-1] / single[-1])
            seconds, whole, _calls = _convert(
                pdf, pages_per_call=pages_per_call, parallel_calls=one_wave
            )
            one_wave_ratios.append(seconds / single[-1])
            complete_one_wave = complete_one_wave and whole
    ratio = statistics.median(ratios)
    one_wave_ratio = statistics.median(one_wave_ratios)
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
                f"latexocr.backends.convert_with_gemini in the harness process with the "
                f"defaults LATEXOCR_PAGES_PER_CALL={pages_per_call}, "
                f"LATEXOCR_PARALLEL_CALLS={parallel_calls} ({calls} calls), against the same "
                f"with {PAGES} pages per call and 1 call. The fake Gemini (its own process) "
                f"answers in {pace} s per 1,000 characters of answer; every page's text checked "
                f"in order in the merged document. Ratio over {rounds} round(s): "
                f"{spread(ratios)}. {PAGES // pages_per_call} ranges over {parallel_calls} "
                "parallel calls make two waves, so the ideal is 2/6 = 0.33 plus one preamble "
                "per range: the defaults sit right at the goal."
            ),
        ),
        Row(
            scenario=f"{PAGES}-page PDF, every range at once",
            figure=(
                f"LATEXOCR_PARALLEL_CALLS={one_wave}: {one_wave_ratio:.2f} of one call; "
                f"{'nothing truncated' if complete_one_wave else 'TRUNCATED'}"
            ),
            value=round(one_wave_ratio, 3),
            unit="ratio",
            compared_against="one single call (same rounds)",
            goal="— (a setting, for comparison)",
            verdict=INFO,
            note=(
                f"The same conversion with {one_wave} calls in parallel ({PAGES} pages / "
                f"{pages_per_call} per call): one wave. Rounds: {spread(one_wave_ratios)}."
            ),
        ),
    ]


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class _Sampler:
    """Peak RSS of a process tree, sampled every 20 ms from a thread."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self.process))
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
        allow_redirects=False,
        timeout=HTTP_TIMEOUT_S,
    )
    return response.status_code


def upload_memory(stack: Stack, quick: bool) -> list[Row]:
    rounds = 1 if quick else 3
    names = users_create(prefix="bench-upload", count=UPLOADERS)
    # No task worker: the conversions stay queued; the web pod's memory is what is measured.
    env = {"LATEXOCR_BACKEND": "local", "LATEXOCR_DAILY_QUOTA": "0"}
    peaks, idles, statuses = [], [], []
    with stack.site("gunicorn-upload", env=env) as site:
        master = psutil.Process(site.processes[0].popen.pid)
        sessions = [login(site.base_url, name) for name in names]
        for session in sessions:  # every worker has served a page: warm, like a live pod
            session.get(site.url("/ocr/"), timeout=HTTP_TIMEOUT_S).raise_for_status()
        for _ in range(rounds):
            time.sleep(1.0)
            idles.append(_tree_rss(master))
            # A new PDF each round: the same one again is only offered the earlier result.
            pdf = pdf_of_size([_page_text(number) for number in range(1, 4)], UPLOAD_BYTES)
            start = threading.Barrier(UPLOADERS)
            with _Sampler(master) as sampler, ThreadPoolExecutor(UPLOADERS) as pool:
                statuses += list(
                    pool.map(lambda s, b=start, p=pdf: _upload(site.base_url, s, p, b), sessions)
                )
            peaks.append(sampler.peak)
        time.sleep(1.0)
        retained = _tree_rss(master)
        workers = len(master.children(recursive=True))
    mib = 1024 * 1024
    peak = max(peaks) / mib
    idle = idles[0] / mib
    accepted = sum(status == 302 for status in statuses)
    return [
        Row(
            scenario=f"web pod RSS while {UPLOADERS} users upload 20 MB PDFs at once",
            figure=(
                f"peak {peak:.0f} MiB (+{peak - idle:.0f} MiB); "
                f"{accepted}/{len(statuses)} uploads accepted"
            ),
            value=round(peak, 1),
            unit="MiB",
            compared_against=f"idle: {idle:.0f} MiB",
            goal=f"< {MEMORY_GOAL_MIB} MiB total",
            verdict=verdict(peak < MEMORY_GOAL_MIB and accepted == len(statuses)),
            note=(
                f"Sum of the RSS of the gunicorn master and its {workers} workers (gthread, "
                f"16 threads each; the image's settings), sampled every 20 ms with psutil; "
                f"shared pages are counted in each process, so this is an upper bound. "
                f"{UPLOADERS} logged-in users POST a {UPLOAD_BYTES:,}-byte PDF to /ocr/ at the "
                f"same instant; peak over {rounds} round(s): "
                f"{', '.join(f'{p / mib:.0f}' for p in peaks)} MiB; 1 s after the last round "
                f"the tree still holds {retained / mib:.0f} MiB. The task worker (its own pod) "
                "is not running: conversions stay queued."
            ),
        )
    ]
