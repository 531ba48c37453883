"""Codegen: /home/ while 50 questions wait on a slow webhook (threaded workers against sync
workers, same count), the app's own overhead per question against a direct call of the
fake webhook, and a self-hosted model's streamed answer: time to the first token against the
whole answer."""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.report import Row, percentile, verdict
from bench.stack import HTTP_TIMEOUT_S, Stack, json_headers, login, users_create

SLOW_QUESTIONS = 50
WEBHOOK_DELAY_S = 5.0
HOME_GOAL_P99_MS = 100
OVERHEAD_GOAL_P50_MS = 5
WORKERS = 2
# Enough threads and in-flight room per worker for all 50 questions to wait at once, whichever
# worker accepts them (production defaults, 16 threads and 8 in flight, answer 429 beyond).
SLOW_THREADS = 64
SLOW_IN_FLIGHT = SLOW_QUESTIONS


def _sessions(base_url: str, names: list[str]) -> list[requests.Session]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda name: login(base_url, name), names))
    # The prober's GETs run concurrently: one pooled connection each.
    sessions[0].mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=200))
    return sessions


def _ask(base_url: str, session: requests.Session, message: str, timeout_s: float) -> int:
    try:
        response = session.post(
            f"{base_url}/codegen/send/",
            json={"message": message},
            headers=json_headers(session),
            timeout=timeout_s,
        )
    except requests.RequestException:
        return 0
    return response.status_code


def _home_during_slow_questions(
    base_url: str,
    askers: list[requests.Session],
    prober: requests.Session,
    *,
    window_s: float,
    probe_timeout_s: float,
) -> tuple[list[float], int, list[int]]:
    """Fires the questions, then GETs /home/ every 50 ms for window_s (each GET in its own
    thread, so a queued one does not hold the next back). Returns the answered /home/ times,
    the number unanswered within probe_timeout_s and the questions' statuses."""
    statuses: list[int] = []
    question_threads = [
        threading.Thread(
            target=lambda s=session, n=number: statuses.append(
                _ask(base_url, s, f"Question lente {n} : trier une liste.", 3 * WEBHOOK_DELAY_S)
            ),
            daemon=True,
        )
        for number, session in enumerate(askers)
    ]
    for thread in question_threads:
        thread.start()
    time.sleep(0.5)  # every question has reached the webhook
    times_ms: list[float] = []
    unanswered = 0
    lock = threading.Lock()

    def probe() -> None:
        nonlocal unanswered
        started = time.perf_counter()
        try:
            response = prober.get(f"{base_url}/home/", timeout=probe_timeout_s)
            ok = response.status_code == 200
        except requests.RequestException:
            ok = False
        with lock:
            if ok:
                times_ms.append((time.perf_counter() - started) * 1000)
            else:
                unanswered += 1

    probes = []
    window_end = time.monotonic() + window_s
    while time.monotonic() < window_end:
        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        probes.append(thread)
        time.sleep(0.05)
    for thread in probes:
        thread.join(probe_timeout_s + 5)
    for thread in question_threads:
        thread.join(0 if unanswered else 3 * WEBHOOK_DELAY_S)
    return times_ms, unanswered, statuses


def _describe(times_ms: list[float], unanswered: int, probe_timeout_s: float) -> str:
    total = len(times_ms) + unanswered
    if unanswered * 100 > total:
        answered = (
            f"p50 {percentile(times_ms, 50):.0f} ms of the answered"
            if times_ms
            else "none answered"
        )
        return f"{answered}; {unanswered}/{total} not answered within {probe_timeout_s:.0f} s"
    return (
        f"p50 {percentile(times_ms, 50):.1f} ms, p99 {percentile(times_ms, 99):.1f} ms "
        f"({total} GETs)"
    )


def home_under_slow_questions(stack: Stack, quick: bool) -> list[Row]:
    window_s, probe_timeout_s = (2.0, 3.0) if quick else (4.0, 10.0)
    names = users_create(prefix="bench-slow", count=SLOW_QUESTIONS + 1)
    env = {
        "CODEGEN_BACKEND": "webhook",
        "CODEGEN_WEBHOOK_URL": stack.fake_webhook(delay_s=WEBHOOK_DELAY_S),
        "CODEGEN_DAILY_QUOTA": "0",
        "CODEGEN_MAX_IN_FLIGHT": str(SLOW_IN_FLIGHT),
        "CODEGEN_TIMEOUT_S": "30",
    }
    results = {}
    sessions: list[requests.Session] = []
    for worker_class, threads in (("uvicorn", SLOW_THREADS), ("sync", 1)):
        with stack.site(
            f"gunicorn-{worker_class}",
            workers=WORKERS,
            threads=threads,
            worker_class=worker_class,
            env=env,
        ) as site:
            # Sessions live in the database: the second site takes the first one's.
            sessions = sessions or _sessions(site.base_url, names)
            prober, askers = sessions[0], sessions[1:]
            prober.get(site.url("/home/"), timeout=HTTP_TIMEOUT_S).raise_for_status()
            results[worker_class] = _home_during_slow_questions(
                site.base_url,
                askers,
                prober,
                window_s=window_s,
                probe_timeout_s=probe_timeout_s,
            )
    times_ms, unanswered, statuses = results["uvicorn"]
    sync_times, sync_unanswered, _ = results["sync"]
    p99 = percentile(times_ms, 99) if times_ms and unanswered == 0 else float("inf")
    answered_questions = sum(status == 200 for status in statuses)
    return [
        Row(
            scenario=f"/home/ while {SLOW_QUESTIONS} questions wait {WEBHOOK_DELAY_S:.0f} s",
            figure=f"uvicorn workers: {_describe(times_ms, unanswered, probe_timeout_s)}",
            value=round(p99, 1) if p99 != float("inf") else None,
            unit="ms",
            compared_against=(
                f"{WORKERS} sync workers: {_describe(sync_times, sync_unanswered, probe_timeout_s)}"
            ),
            goal=f"p99 < {HOME_GOAL_P99_MS} ms",
            verdict=verdict(p99 < HOME_GOAL_P99_MS),
            note=(
                f"{WORKERS} gunicorn workers each way; the image's uvicorn workers (requests on a "
                f"pool of threads per process) and "
                f"CODEGEN_MAX_IN_FLIGHT={SLOW_IN_FLIGHT} so that all {SLOW_QUESTIONS} questions "
                f"wait at once ({answered_questions}/{SLOW_QUESTIONS} answered 200 after "
                f"{WEBHOOK_DELAY_S:.0f} s). One GET /home/ every 50 ms for {window_s:.0f} s "
                "while they wait, each in its own thread; with sync workers a GET queues behind "
                "the questions, and one not answered within the timeout counts as unanswered. "
                "With 2 cores shared by the harness, PostgreSQL and gunicorn, p99 over ~"
                f"{int(window_s * 20)} GETs is close to the maximum."
            ),
        )
    ]


def codegen_overhead(stack: Stack, quick: bool) -> list[Row]:
    questions = 20 if quick else 200
    names = users_create(prefix="bench-overhead", count=1)
    webhook_url = stack.fake_webhook(delay_s=0.0)
    env = {
        "CODEGEN_BACKEND": "webhook",
        "CODEGEN_WEBHOOK_URL": webhook_url,
        "CODEGEN_DAILY_QUOTA": "0",
    }
    with stack.site("gunicorn-overhead", env=env) as site:
        session = login(site.base_url, names[0])
        bare = _BareClient(site.base_url, session)

        def ask_bare(message: str) -> int:
            return bare.post_json("/codegen/send/", {"message": message})["id"]

        def ask_requests(message: str) -> int:
            response = session.post(
                site.url("/codegen/send/"),
                json={"message": message},
                headers=json_headers(session),
                timeout=HTTP_TIMEOUT_S,
            )
            response.raise_for_status()
            return int(response.json()["id"])

        bare_ms, bare_overheads = _overheads(ask_bare, questions)
        requests_ms, requests_overheads = _overheads(ask_requests, questions)
    direct_ms, service_overheads = _in_process(names[0], webhook_url, questions)
    overhead = statistics.median(bare_overheads)
    service_overhead = statistics.median(service_overheads)
    direct = (
        "direct call of the fake (the app's webhook client): "
        f"p50 {statistics.median(direct_ms):.1f} ms"
    )
    return [
        Row(
            scenario="codegen: the app's own time per question, through gunicorn",
            figure=(
                f"p50 {overhead:.1f} ms (p90 {percentile(bare_overheads, 90):.1f} ms); whole "
                f"request p50 {statistics.median(bare_ms):.1f} ms. With requests as the "
                f"client: p50 {statistics.median(requests_overheads):.1f} ms (whole "
                f"{statistics.median(requests_ms):.1f} ms)"
            ),
            value=round(overhead, 2),
            unit="ms",
            compared_against=direct,
            goal=f"< {OVERHEAD_GOAL_P50_MS} ms p50",
            verdict=verdict(overhead < OVERHEAD_GOAL_P50_MS),
            note=(
                f"{questions} questions one after another to POST /codegen/send/ (session + "
                "CSRF, gunicorn with the image's uvicorn workers, fake webhook answering at "
                "once), from a bare http.client connection kept alive; then as many from "
                "the requests library, whose own work per call (cookie jar, hooks, adapters) "
                "is client time, not the app's (healthz: ~0.5 ms more than http.client). "
                "Overhead = the request's time seen by the client minus the question's "
                "recorded upstream latency (latency_ms, to a hundredth of a millisecond): HTTP, "
                "session and user read, CSRF, the question saved before and after the call, reply "
                "parsing, syntax check, highlighting and the JSON answer."
                + (" Quick mode: 20 questions." if quick else "")
            ),
        ),
        Row(
            scenario="codegen: the app's own time per question, in the service",
            figure=(
                f"p50 {service_overhead:.1f} ms (p90 {percentile(service_overheads, 90):.1f} ms)"
            ),
            value=round(service_overhead, 2),
            unit="ms",
            compared_against=direct,
            goal=f"< {OVERHEAD_GOAL_P50_MS} ms p50",
            verdict=verdict(service_overhead < OVERHEAD_GOAL_P50_MS),
            note=(
                "codegen.services.question_create then question_send called in the harness "
                "process (the question saved before and after the call, reply parsing; no "
                "daily quota here, so no row lock or count): its "
                "time minus the question's latency_ms. No HTTP, session or rendering: the "
                "difference with the row above is Django's request handling and the JSON view."
            ),
        ),
    ]


class _BareClient:
    """POSTs JSON on one kept-alive http.client connection, with a logged-in session's
    cookies and CSRF token: as little client work per request as Python allows."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT_S)
        self.headers = {
            **json_headers(session),
            "Content-Type": "application/json",
            "Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies),
        }

    def post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.connection.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"POST {path} answered {response.status}: {data[:200]!r}")
        answer: dict[str, Any] = json.loads(data)
        return answer


def _overheads(ask: Callable[[str], int], questions: int) -> tuple[list[float], list[float]]:
    """(whole request ms, request ms minus the question's latency_ms) per question."""
    from codegen.models import Question

    request_ms: list[float] = []
    ids: list[int] = []
    for number in range(questions + 5):
        message = f"Écrire une fonction qui somme une liste ({number})."
        started = time.perf_counter()
        question_id = ask(message)
        elapsed = (time.perf_counter() - started) * 1000
        if number >= 5:  # the first ones warm the workers up
            request_ms.append(elapsed)
            ids.append(question_id)
    latency = dict(Question.objects.filter(pk__in=ids).values_list("pk", "latency_ms"))
    overheads = [total - (latency[pk] or 0) for total, pk in zip(request_ms, ids, strict=True)]
    return request_ms, overheads


def _in_process(username: str, webhook_url: str, questions: int) -> tuple[list[float], list[float]]:
    """The webhook client alone, then the services the views call, in this process: times in ms."""
    from django.test import override_settings

    from accounts.models import User
    from codegen.services import question_create, question_send
    from platform_site.llm import webhook
    from platform_site.llm.registry import webhook_call

    user = User.objects.get(username=username)
    direct_ms: list[float] = []
    overheads: list[float] = []
    with override_settings(
        CODEGEN_BACKEND="webhook",
        CODEGEN_WEBHOOK_URL=webhook_url,
        CODEGEN_WEBHOOK_API_KEY="",
        CODEGEN_DAILY_QUOTA=0,
    ):
        for number in range(questions + 5):
            message = f"Écrire une fonction qui somme une liste ({number})."
            started = time.perf_counter()
            webhook.send(call=webhook_call(), message=message)
            if number >= 5:
                direct_ms.append((time.perf_counter() - started) * 1000)
        for number in range(questions + 5):
            message = f"Écrire une fonction qui somme une liste ({number})."
            started = time.perf_counter()
            question = question_send(question=question_create(user=user, message=message))
            if number >= 5:
                total = (time.perf_counter() - started) * 1000
                overheads.append(total - (question.latency_ms or 0))
    return direct_ms, overheads


# 40 tokens a second: a 7B model on one GPU (vLLM); Ollama on a laptop CPU is 5-10.
STREAM_SECONDS_PER_TOKEN = 0.025
STREAM_FIRST_TOKEN_GOAL_MS = 500


def _streamed(session: requests.Session, url: str, message: str) -> tuple[float, float, bool]:
    """POST to the stream; (ms to the first token event, ms to the end, whether it was done)."""
    started = time.perf_counter()
    first_ms = 0.0
    seen = b""
    with session.post(
        url,
        json={"message": message},
        headers={**json_headers(session), "Accept": "text/event-stream"},
        timeout=HTTP_TIMEOUT_S,
        stream=True,
    ) as response:
        response.raise_for_status()
        # chunk_size=None: each chunk as the server sends it, no buffering to 512 bytes.
        for chunk in response.iter_content(chunk_size=None):
            seen += chunk
            if not first_ms and b"event: token" in seen:
                first_ms = (time.perf_counter() - started) * 1000
    return first_ms, (time.perf_counter() - started) * 1000, b"event: done" in seen


def codegen_streaming(stack: Stack, quick: bool) -> list[Row]:
    questions = 3 if quick else 10
    names = users_create(prefix="bench-stream", count=1)
    env = {
        "CODEGEN_BACKEND": "openai",
        "OPENAI_BASE_URL": stack.fake_openai(seconds_per_token=STREAM_SECONDS_PER_TOKEN),
        "CODEGEN_OPENAI_MODEL": "fake-coder",
        "CODEGEN_DAILY_QUOTA": "0",
    }
    with stack.site("gunicorn-stream", env=env) as site:
        session = login(site.base_url, names[0])
        first_ms: list[float] = []
        whole_ms: list[float] = []
        plain_ms: list[float] = []
        complete = 0
        for number in range(questions + 1):
            message = f"Écrire une fonction qui somme une liste ({number})."
            first, whole, done = _streamed(session, site.url("/codegen/stream/"), message)
            started = time.perf_counter()
            session.post(
                site.url("/codegen/send/"),
                json={"message": message},
                headers=json_headers(session),
                timeout=HTTP_TIMEOUT_S,
            ).raise_for_status()
            if number >= 1:  # the first pair warms the workers up
                first_ms.append(first)
                whole_ms.append(whole)
                plain_ms.append((time.perf_counter() - started) * 1000)
                complete += done
    first_p50 = statistics.median(first_ms)
    return [
        Row(
            scenario="codegen on a self-hosted model: first token vs whole answer (streamed)",
            figure=(
                f"first token p50 {first_p50:.0f} ms (max {max(first_ms):.0f}); whole answer "
                f"p50 {statistics.median(whole_ms):.0f} ms"
            ),
            value=round(first_p50, 1),
            unit="ms",
            compared_against=(
                f"not streamed (POST /codegen/send/): the page waits p50 "
                f"{statistics.median(plain_ms):.0f} ms for anything"
            ),
            goal=f"first token < {STREAM_FIRST_TOKEN_GOAL_MS} ms",
            verdict=verdict(first_p50 < STREAM_FIRST_TOKEN_GOAL_MS and complete == len(first_ms)),
            note=(
                f"{questions} questions, each asked streamed (POST /codegen/stream/, server-sent "
                "events read as they arrive) then not streamed, through gunicorn (uvicorn "
                "workers) to the "
                f"fake OpenAI-compatible server at {STREAM_SECONDS_PER_TOKEN * 1000:.0f} ms a "
                "token (~40 tokens/s, a 7B model on one GPU) and its default answer of ~90 "
                f"tokens. {complete}/{len(first_ms)} streams ended with their done event."
            ),
        )
    ]
