"""Both tools under 100 concurrent clients (locust): every request answered, no 5xx."""

from __future__ import annotations

from bench.load import locust_run
from bench.report import Row, percentile, verdict
from bench.stack import Stack, users_create

CLIENTS = 100
WEBHOOK_DELAY_S = 1.0


def tools_under_load(stack: Stack, quick: bool) -> list[Row]:
    run_time_s = 6 if quick else 30
    names = users_create(prefix="bench-load", count=CLIENTS)
    env = {
        **stack.backends_env(),
        "CODEGEN_WEBHOOK_URL": stack.fake_webhook(delay_s=WEBHOOK_DELAY_S),
    }
    with stack.task_worker(env=env), stack.site("gunicorn-load", env=env) as site:
        results = locust_run(
            locustfile="tools.py",
            host=site.base_url,
            users=CLIENTS,
            spawn_rate=CLIENTS / 2,
            run_time_s=run_time_s,
            workdir=stack.workdir,
            env={"BENCH_USERNAMES": ",".join(names)},
        )
    logins = results.get("login")
    logged_in = sum(status == 302 for status in logins.statuses) if logins else 0
    rows = []
    for name in ("/codegen/send/", "/ocr/"):
        requests = results.get(name)
        if requests is None or not requests.statuses:
            raise RuntimeError(f"no request to {name} was recorded")
        counts = requests.status_counts()
        server_errors = sum(count for status, count in counts.items() if status >= 500)
        unanswered = counts.get(0, 0)
        statuses = ", ".join(f"{status}x{count}" for status, count in counts.items())
        rows.append(
            Row(
                scenario=f"{name} under {CLIENTS} concurrent clients for {run_time_s} s",
                figure=(
                    f"{len(requests.statuses)} requests ({statuses}); {server_errors} 5xx, "
                    f"{unanswered} unanswered; p50 {percentile(requests.times_ms, 50):.0f} ms, "
                    f"p95 {percentile(requests.times_ms, 95):.0f} ms"
                ),
                value=float(server_errors + unanswered),
                unit="failed requests",
                goal="zero 5xx, every request answered",
                verdict=verdict(server_errors == 0 and unanswered == 0),
                note=(
                    f"locust, {CLIENTS} users (spawned over 2 s; {logged_in} logged in through the "
                    "form), then asking a question or uploading a one-page PDF at random with "
                    "0-1 s pauses; 429 (quota or too many questions in flight) counts as "
                    "answered, no answer within 60 s does not. gunicorn with the image's "
                    "settings (2 uvicorn workers), the task worker converting the "
                    f"uploads with the fake Gemini, the fake webhook answering after "
                    f"{WEBHOOK_DELAY_S:.0f} s; production quotas and in-flight cap. Locust, "
                    "gunicorn, the worker and PostgreSQL share the 2 cores."
                    + (" Quick mode: 6 s." if quick else "")
                ),
            )
        )
    return rows
