"""The site as production runs it, on 127.0.0.1, for the browser tests (marker "e2e").

One session starts, on free ports: a fresh PostgreSQL database (created and dropped here),
the fake Gemini and webhook servers, gunicorn with DEBUG off and the database task backend,
and the task worker (`manage.py db_worker`). Each test gets a fresh browser context (no
cookies) in Debian's Chromium, driven by Playwright; Playwright's own browser download is
not reachable here. See docs/ui.md.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests import servers
from tests.servers import PYTHON, ROOT, free_port, server_url

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser's own words (the file picker's "Choisir un fichier") in French, like a
# student's browser: Chromium reads its UI language from the environment (chromium-l10n).
CHROMIUM_ENV: dict[str, str | float | bool] = {
    **os.environ,
    "LANG": "fr_FR.UTF-8",
    "LANGUAGE": "fr",
}
# Slow enough that journey 5 sees the conversion queued and running, like a real model.
GEMINI_PACE = ["--seconds-per-1000-chars", "3"]
LATEX_COMPILER = "latexmk -pdf" if shutil.which("latexmk") else ""
ADMIN_USERNAME = "admin-e2e"
ADMIN_PASSWORD = "Admin-e2e-" + secrets.token_urlsafe(8)


@dataclass
class LiveSite(servers.LiveSite):
    admin_username: str = ADMIN_USERNAME
    admin_password: str = ADMIN_PASSWORD


@pytest.fixture(scope="session")
def live_site() -> Iterator[LiveSite]:
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (scripts/system-packages installs Debian's chromium)"
        if os.environ.get("CI"):
            # A CI run that skipped every journey would pass while proving nothing.
            pytest.fail(f"{missing}; in CI set E2E_CHROMIUM to the runner's browser")
        pytest.skip(missing)
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the browser tests need DATABASE_URL to point at a PostgreSQL server")

    database = f"e2e_{secrets.token_hex(4)}"
    admin_url = server_url(database_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')

    workdir = Path(tempfile.mkdtemp(prefix="e2e-site-"))
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "e2e-only-" + secrets.token_urlsafe(16),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": server_url(database_url, database),
        # Plain HTTP on 127.0.0.1: no TLS gateway in front. Chromium treats 127.0.0.1 as a
        # secure context, so the Secure session and CSRF cookies still work.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_TASKS_BACKEND": "database",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "8",
        "PYTHONUNBUFFERED": "1",
        # A developer's .env (scripts/run) must not leak into the site under test.
        "DJANGO_ENV_FILE": "",
    }
    site = LiveSite(base_url=f"http://127.0.0.1:{port}", env=env, workdir=workdir)
    try:
        gemini = [PYTHON, "-m", "platform_site.llm.tests.fakes.gemini", "--port", "0", *GEMINI_PACE]
        gemini_port = site.start("fake-gemini", gemini, ready_line="READY").split()[1]
        webhook = [PYTHON, "-m", "platform_site.llm.tests.fakes.webhook", "--port", "0"]
        webhook_port = site.start("fake-webhook", webhook, ready_line="READY").split()[1]
        env.update(
            {
                "GEMINI_API_KEY": "e2e-fake-key",
                "GEMINI_BASE_URL": f"http://127.0.0.1:{gemini_port}",
                "LATEXOCR_BACKEND": "gemini",
                # The worker compiles each result like the worker image (TeX Live installed
                # by scripts/system-packages); without latexmk the page says it was skipped.
                "LATEXOCR_COMPILER": LATEX_COMPILER,
                "CODEGEN_BACKEND": "webhook",
                "CODEGEN_WEBHOOK_URL": f"http://127.0.0.1:{webhook_port}/webhook",
                "CODEGEN_WEBHOOK_API_KEY": "e2e-fake-key",
            }
        )
        site.manage("compilemessages", "--ignore=.venv", "-v", "0")
        site.manage("migrate", "--no-input", "-v", "0")
        site.manage("collectstatic", "--no-input", "-v", "0")
        site.env = {
            **env,
            "DJANGO_SUPERUSER_USERNAME": ADMIN_USERNAME,
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "DJANGO_SUPERUSER_EMAIL": "admin-e2e@example.org",
        }
        site.manage("createsuperuser", "--no-input")
        site.env = env
        site.start("gunicorn", [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"])
        worker = ["manage.py", "db_worker", "--no-startup-delay", "--interval", "0.5"]
        site.start("db_worker", [PYTHON, *worker])
        site.wait_until_healthy()
        yield site
    finally:
        for process in reversed(site.processes):
            process.stop()
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(live_site: LiveSite) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV
        )
        yield chromium
        chromium.close()


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keeps the test's outcome on the item so the page fixture can add the server logs.
    report = yield
    item.stash[CALL_FAILED] = item.stash.get(CALL_FAILED, False) or (
        report.when == "call" and report.failed
    )
    return report


@pytest.fixture
def page(request: pytest.FixtureRequest, browser: Browser, live_site: LiveSite) -> Iterator[Page]:
    """A page in a fresh context (no cookies) that fails the test on a CSP violation or JS error."""
    context = browser.new_context(
        base_url=live_site.base_url,
        viewport={"width": 1280, "height": 860},
        locale="fr-FR",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda message: _note_console_problem(message, problems))
    yield page
    context.close()
    if request.node.stash.get(CALL_FAILED, False):
        print(live_site.logs())  # shown with the failure: what the servers said
    assert not problems, "\n".join(problems)


def _note_console_problem(message: ConsoleMessage, problems: list[str]) -> None:
    # Error statuses are the point of some journeys (401, 429...): only CSP refusals and
    # script errors count.
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console: {message.text}")


def screenshot(page: Page, name: str) -> Path:
    """Saves the page's final state for reviewers (out/ is git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def second_site(live_site: LiveSite) -> Iterator[LiveSite]:
    """Another gunicorn on the same database, for the states the main site is not in:
    no code generator configured and PDF conversion that needs a missing Gemini key
    (`/` prefix "unconfigured"), or a code generator whose server does not answer and the
    local text-layer engine ("broken"). Chosen per test with `site_env` below."""
    port = free_port()
    site = LiveSite(
        base_url=f"http://127.0.0.1:{port}", env=dict(live_site.env), workdir=live_site.workdir
    )
    yield site
    site.stop_all()


def start_second_site(site: LiveSite, **overrides: str) -> None:
    """(Re)start the second gunicorn with `overrides` over the main site's environment."""
    site.stop_all()
    port = site.base_url.rsplit(":", 1)[1]
    site.env = {**site.env, "PORT": port, "GUNICORN_WORKERS": "1", **overrides}
    site.start("gunicorn-second", [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"])
    site.wait_until_healthy()
