"""What the scenarios run against, all on 127.0.0.1: the benchmark's own PostgreSQL database,
the site under gunicorn with the production settings, the task worker, the fake Gemini and
the fake webhook (platform_site/llm/tests/fakes/, with their configurable latency).

The processes are started like the browser tests start them (tests/servers.py). The
harness process itself also sets Django up on the same database, for the scenarios that call
services directly and to create the users the load scenarios log in with.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests
from requests.cookies import RequestsCookieJar

from tests.servers import PYTHON, LiveSite, free_port, server_url

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_db"
PASSWORD = "Bench-only-password-1"  # noqa: S105 (the benchmark users on 127.0.0.1)
HTTP_TIMEOUT_S = 120


class Stack:
    def __init__(self, *, database_url: str, workdir: Path) -> None:
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("the benchmark needs DATABASE_URL to point at PostgreSQL")
        self.database_url = database_url
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.env: dict[str, str] = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "platform_site.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-" + secrets.token_urlsafe(16),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
            "DATABASE_URL": database_url,
            # Plain HTTP on 127.0.0.1: no TLS gateway in front.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_TASKS_BACKEND": "database",
            "DJANGO_STATIC_ROOT": str(workdir / "static"),
            "DJANGO_LOG_LEVEL": "WARNING",
            "LATEXOCR_COMPILER": "",
            "HOST": "127.0.0.1",
            # Stopping a site between scenarios should not wait for in-flight slow requests.
            "GUNICORN_GRACEFUL_TIMEOUT": "2",
            "PYTHONUNBUFFERED": "1",
        }
        # The image sets glibc's MALLOC_* variables; gunicorn.conf.py and manage.py apply the
        # same with mallopt() (platform_site/malloc.py). None here, so the benchmark shows
        # that a run outside the image gets them too.
        for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_"):
            self.env.pop(name, None)
        self.processes = LiveSite(base_url="", env=self.env, workdir=workdir)
        self._fakes: dict[tuple[str, float], str] = {}

    # --- set-up -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Creates the database if needed, migrates it, collects static files, sets Django up."""
        database = self.database_url.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(server_url(self.database_url, "postgres"), autocommit=True) as db:
            exists = db.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if not exists:
                db.execute(f'CREATE DATABASE "{database}"')
        self.processes.manage("migrate", "--no-input", "-v", "0")
        self.processes.manage("collectstatic", "--no-input", "-v", "0")
        os.environ.update(self.env)
        import django

        django.setup()

    def close(self) -> None:
        self.processes.stop_all()
        shutil.rmtree(self.workdir / "static", ignore_errors=True)

    # --- fakes --------------------------------------------------------------------------
    def fake_webhook(self, *, delay_s: float) -> str:
        """The URL of a fake webhook answering after delay_s (started once per delay)."""
        return self._fake("webhook", "webhook", "--delay-s", delay_s) + "/webhook"

    def fake_gemini(self, *, seconds_per_1000_chars: float) -> str:
        return self._fake("gemini", "gemini", "--seconds-per-1000-chars", seconds_per_1000_chars)

    def fake_openai(self, *, seconds_per_token: float) -> str:
        """The /v1 base URL of a fake OpenAI-compatible server streaming at this pace."""
        return (
            self._fake("openai", "openai_compatible", "--seconds-per-token", seconds_per_token)
            + "/v1"
        )

    def _fake(self, name: str, module: str, option: str, value: float) -> str:
        """The base URL of the fake `platform_site.llm.tests.fakes.<module>` started with
        `option value` (once per value)."""
        key = (name, value)
        if key not in self._fakes:
            command = [
                PYTHON,
                "-m",
                f"platform_site.llm.tests.fakes.{module}",
                "--port",
                "0",
                option,
                str(value),
            ]
            port = self.processes.start(f"fake-{name}-{value}", command, ready_line="READY")
            self._fakes[key] = f"http://127.0.0.1:{port.split()[1]}"
        return self._fakes[key]

    def backends_env(self) -> dict[str, str]:
        """Codegen and LaTeX OCR pointed at fakes answering at once."""
        return {
            "CODEGEN_BACKEND": "webhook",
            "CODEGEN_WEBHOOK_URL": self.fake_webhook(delay_s=0.0),
            "GEMINI_API_KEY": "bench-fake-key",
            "GEMINI_BASE_URL": self.fake_gemini(seconds_per_1000_chars=0.0),
            "LATEXOCR_BACKEND": "gemini",
        }

    # --- the site -----------------------------------------------------------------------
    @contextmanager
    def site(
        self,
        name: str,
        *,
        workers: int = 2,
        threads: int = 16,
        worker_class: str | None = None,
        cpus: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Iterator[LiveSite]:
        """gunicorn with gunicorn.conf.py (the image's settings), optionally pinned to CPUs."""
        port = free_port()
        site_env = {
            **self.env,
            **(env or {}),
            "PORT": str(port),
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        if worker_class is not None:  # else the environment's, by default the image's (uvicorn)
            site_env["GUNICORN_WORKER_CLASS"] = worker_class
        site = LiveSite(base_url=f"http://127.0.0.1:{port}", env=site_env, workdir=self.workdir)
        command = [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        if cpus is not None:
            command = ["taskset", "-c", cpus, *command]
        try:
            site.start(name, command)
            site.wait_until_healthy()
            yield site
        finally:
            site.stop_all()

    @contextmanager
    def task_worker(self, *, env: dict[str, str] | None = None) -> Iterator[LiveSite]:
        """manage.py db_worker; `.processes[0].popen.pid` is its process (memory scenarios)."""
        worker = LiveSite(base_url="", env={**self.env, **(env or {})}, workdir=self.workdir)
        command = [PYTHON, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2"]
        try:
            worker.start("db_worker", command)
            yield worker
        finally:
            worker.stop_all()


# --- users and HTTP sessions ----------------------------------------------------------
def users_create(*, prefix: str, count: int) -> list[str]:
    """`count` fresh users named prefix-0000…, all with PASSWORD; earlier ones are deleted.

    One Argon2id hash is computed and shared: creating 300 users costs one hash, not 300.
    """
    from django.contrib.auth.hashers import make_password

    from accounts.models import User

    User.objects.filter(username__startswith=f"{prefix}-").delete()
    encoded = make_password(PASSWORD)
    names = [f"{prefix}-{number:04d}" for number in range(count)]
    User.objects.bulk_create(
        [User(username=name, password=encoded, first_name="Bench") for name in names]
    )
    return names


class PlainHttpCookieJar(RequestsCookieJar):
    """Keeps the site's Secure cookies for the benchmark's plain HTTP on 127.0.0.1.

    With DEBUG off the session and CSRF cookies are Secure (TLS ends at the gateway in
    production); a browser treats 127.0.0.1 as a secure context, `requests` does not.
    (A cookie policy would not do: `requests` copies the jar into a default one per request.)
    """

    def set_cookie(self, cookie: Cookie, *args: Any, **kwargs: Any) -> None:
        cookie.secure = False
        super().set_cookie(cookie, *args, **kwargs)


def http_session() -> requests.Session:
    session = requests.Session()
    session.cookies = PlainHttpCookieJar()
    return session


def login(base_url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A session logged in through the login form, like a browser."""
    session = http_session()
    session.get(f"{base_url}/accounts/login/", timeout=HTTP_TIMEOUT_S).raise_for_status()
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=HTTP_TIMEOUT_S,
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {username} answered {response.status_code}")
    return session


def json_headers(session: requests.Session) -> dict[str, Any]:
    return {"X-CSRFToken": session.cookies["csrftoken"], "Accept": "application/json"}


def tree_pss(process: psutil.Process) -> int:
    """The proportional set size of a process and its children: what the pod's memory
    cgroup charges for them (a page shared by the master and its workers counts once)."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_full_info().pss
        except psutil.NoSuchProcess:
            continue
    return total
