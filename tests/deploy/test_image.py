"""The image, proven: built with podman from our Dockerfile and running the whole site.

scripts/image-build.sh installs podman when missing, provides the base image (a Debian
stand-in where no registry answers) and builds the web target. Then, with host networking
only and everything on 127.0.0.1: a fresh PostgreSQL database, the fake Gemini and webhook
servers, and three containers from the one image, each hardened as the Kubernetes pods are
(read-only root with a tmpfs /tmp, no capabilities, no privilege escalation, the image's
non-root user): the migrations (one-shot), the web (gunicorn) and the worker (db_worker).
The tests drive the site over HTTP as a browser would. Every container is removed by id,
also when a step fails. Figures (build, size, first answer, stop time) go to
out/image-smoke.json. Where podman cannot run the module skips, saying why.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests

from tests.deploy.tools import ROOT
from tests.pdfs import HANDWRITTEN_FIXTURE

pytestmark = pytest.mark.image

SKIP_STATUS = 77
CONTAINERS_CONF = ROOT / ".cache" / "image" / "containers.conf"
FIGURES_PATH = ROOT / "out" / "image-smoke.json"
LOGS = ROOT / "out" / "image-smoke"
# The web container's graceful timeout: a question in flight must be answered within it.
GRACE_S = 30
WEBHOOK_DELAY_S = 3.0
HARDENING = [
    "--network=host",
    "--read-only",
    "--tmpfs=/tmp:rw,nosuid,nodev,size=256m",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
]
figures: dict[str, Any] = {}


def podman(*arguments: str, check: bool = True, timeout: float = 120) -> str:
    result = subprocess.run(
        ["podman", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build(target: str) -> str:
    """Build one target of the Dockerfile; the image name. Skips where podman cannot run."""
    started = time.monotonic()
    result = subprocess.run(
        [str(ROOT / "scripts" / "image-build.sh"), "--target", target],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode == SKIP_STATUS:
        pytest.skip(result.stdout.strip().removeprefix("SKIP "))
    assert result.returncode == 0, result.stderr[-5000:]
    for line in result.stdout.splitlines():
        if line.startswith("FIGURE "):
            _, name, seconds = line.split()
            figures[name] = float(seconds)
    figures[f"build_{target}_script_s"] = round(time.monotonic() - started, 1)
    name = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("IMAGE "))
    size = int(podman("image", "inspect", "--format", "{{.Size}}", name))
    figures[f"image_{target}_size_mb"] = round(size / 1e6, 1)
    return name


def run_once(image: str, command: list[str], options: list[str], timeout: float = 300) -> str:
    """Run a one-shot hardened container to its end; its output. Removed by id whatever happens."""
    container_id = podman("run", "--detach", *HARDENING, *options, image, *command)
    try:
        podman("wait", container_id, timeout=timeout)
        return podman("logs", container_id)
    finally:
        podman("rm", "--force", "--time", "5", container_id, check=False)


@pytest.fixture(scope="module")
def image() -> str:
    """The web target: the image's default, and what runs the migrations."""
    return build("web")


@pytest.fixture(scope="module")
def worker_image(image: str) -> str:
    """The worker target: the web image plus TeX Live, so the compile check runs too."""
    return build("worker")


@dataclass
class Containers:
    """Containers started by this module, removed by id (never by name) at the end."""

    ids: dict[str, str] = field(default_factory=dict)

    def run(self, name: str, image: str, environment: dict[str, str], *command: str) -> str:
        env_args = [f"--env={key}={value}" for key, value in environment.items()]
        container_id = podman("run", "--detach", *HARDENING, *env_args, image, *command)
        self.ids[name] = container_id
        return container_id

    def logs(self, name: str) -> str:
        return podman("logs", self.ids[name], check=False)

    def remove_all(self) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        for name, container_id in self.ids.items():
            (LOGS / f"{name}.log").write_text(podman("logs", container_id, check=False))
            podman("rm", "--force", "--time", "5", container_id, check=False)


@dataclass
class Fake:
    process: subprocess.Popen[str]
    port: int


def start_fake(module: str, *arguments: str) -> Fake:
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", "0", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("READY "):
        process.kill()
        raise AssertionError(f"{module} did not start: {line!r}")
    # Keep draining its output so it never blocks on a full pipe.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return Fake(process, int(line.split()[1]))


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Fake]]:
    started = {
        "gemini": start_fake("platform_site.llm.tests.fakes.gemini"),
        "webhook": start_fake(
            "platform_site.llm.tests.fakes.webhook", "--delay-s", str(WEBHOOK_DELAY_S)
        ),
    }
    yield started
    for fake in started.values():
        fake.process.terminate()
        fake.process.wait(timeout=10)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    """A fresh database on the suite's PostgreSQL server, dropped at the end."""
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.startswith("postgres"):
        pytest.skip("the image smoke test needs PostgreSQL (DATABASE_URL is not postgres://)")
    name = f"image_smoke_{secrets.token_hex(4)}"
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Site:
    url: str
    port: int
    environment: dict[str, str]
    containers: Containers
    secret_values: list[str]


def wait_for_200(url: str, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered 200 within {timeout_s} s")


@pytest.fixture(scope="module")
def site(
    image: str, worker_image: str, fakes: dict[str, Fake], database_url: str
) -> Iterator[Site]:
    port = free_port()
    secret_key = secrets.token_urlsafe(40)
    gemini_key = "fake-gemini-" + secrets.token_hex(12)
    environment = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on 127.0.0.1 here; TLS ends at the gateway in the cluster.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "DJANGO_TASKS_BACKEND": "database",
        "GEMINI_API_KEY": gemini_key,
        "GEMINI_BASE_URL": f"http://127.0.0.1:{fakes['gemini'].port}",
        "LATEXOCR_BACKEND": "gemini",
        # gunicorn.conf.py would bind HOST:PORT, and 192.0.2.1 (TEST-NET-1) is no address of
        # this machine: the site answers only because gunicorn's own GUNICORN_CMD_ARGS
        # overrides the bind. PORT stays right for the image's HEALTHCHECK.
        "HOST": "192.0.2.1",
        "PORT": str(port),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
        "GUNICORN_GRACEFUL_TIMEOUT": str(GRACE_S),
        "CODEGEN_WEBHOOK_URL": f"http://127.0.0.1:{fakes['webhook'].port}/webhook",
    }
    containers = Containers()
    try:
        migrate = containers.run(
            "migrate", image, environment, "python", "manage.py", "migrate", "--no-input"
        )
        exit_code = podman("wait", migrate, timeout=300)
        assert exit_code == "0", containers.logs("migrate")
        containers.run("web", image, environment)
        figures["first_200_s"] = round(wait_for_200(f"http://127.0.0.1:{port}/healthz", 60), 2)
        containers.run("worker", worker_image, environment)
        yield Site(
            f"http://127.0.0.1:{port}", port, environment, containers, [secret_key, gemini_key]
        )
    finally:
        containers.remove_all()
        FIGURES_PATH.parent.mkdir(parents=True, exist_ok=True)
        FIGURES_PATH.write_text(json.dumps(figures, indent=2) + "\n")


class Browser(requests.Session):
    """Sends its Secure cookies to http://127.0.0.1, as browsers do for localhost: DEBUG is
    off, so every cookie is Secure, and TLS ends at the gateway, not in the container.
    (requests' cookie jars drop Secure cookies over http.) One host, so every cookie applies."""

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.cookies)
        if cookies:
            prepared.headers["Cookie"] = cookies
        return prepared


def browser() -> requests.Session:
    return Browser()


def csrf_token(session: requests.Session) -> str:
    return str(session.cookies.get("csrftoken"))


@pytest.fixture(scope="module")
def student(site: Site) -> requests.Session:
    """A student who signed up, logged out and logged in again."""
    session = browser()
    username = "student-" + secrets.token_hex(3)
    password = "Image-smoke-" + secrets.token_urlsafe(12)
    assert session.get(f"{site.url}/accounts/register/", timeout=10).status_code == 200
    signed_up = session.post(
        f"{site.url}/accounts/register/",
        data={
            "csrfmiddlewaretoken": csrf_token(session),
            "username": username,
            "password1": password,
            "password2": password,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert signed_up.status_code == 302, signed_up.text[:2000]
    session.post(
        f"{site.url}/accounts/logout/",
        data={"csrfmiddlewaretoken": csrf_token(session)},
        timeout=10,
    )
    assert session.get(f"{site.url}/home/", allow_redirects=False, timeout=10).status_code == 302
    session.get(f"{site.url}/accounts/login/", timeout=10)
    logged_in = session.post(
        f"{site.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": csrf_token(session),
            "username": username,
            "password": password,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logged_in.status_code == 302, logged_in.text[:2000]
    home = session.get(f"{site.url}/home/", timeout=10)
    assert home.status_code == 200
    assert username in home.text
    return session


# --- The image itself ---------------------------------------------------------------------


def test_the_image_runs_as_a_fixed_non_root_user_with_a_healthcheck(image: str) -> None:
    inspected = json.loads(podman("image", "inspect", image))[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    # podman shows a docker-format image's HEALTHCHECK at the top level.
    assert "/healthz" in " ".join(inspected["Healthcheck"]["Test"])
    assert config["Cmd"] == ["gunicorn", "--config", "gunicorn.conf.py"]


def test_the_worker_target_runs_db_worker_as_the_same_user(worker_image: str) -> None:
    config = json.loads(podman("image", "inspect", worker_image))[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["Cmd"] == ["python", "manage.py", "db_worker"]


def test_no_secret_is_baked_into_the_image(image: str, site: Site) -> None:
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image))
    names = [variable.split("=", 1)[0] for variable in config["Env"]]
    assert not [name for name in names if re.search("SECRET|PASSWORD|TOKEN|API_KEY", name)]
    history = podman("history", "--no-trunc", "--format", "{{.CreatedBy}}", image)
    for value in site.secret_values:
        assert value not in history
    # The build stage's throwaway key is the only one that may appear (multi-stage: it does not).
    assert set(re.findall(r"DJANGO_SECRET_KEY=(\S+)", history)) <= {"build-time-only-not-a-secret"}
    shipped = run_once(image, ["ls", "-A", "/app"], []).split()
    assert not {".env", ".git", ".venv", "db.sqlite3", "tests", ".cache"} & set(shipped)
    assert {"manage.py", "gunicorn.conf.py", "staticfiles"} <= set(shipped)


def test_the_web_image_stays_small_and_tex_live_is_in_the_worker_only(
    image: str, worker_image: str
) -> None:
    # The base (python:3.13-slim, or its Debian stand-in) is ~120-185 MB of it; TeX Live
    # (worker only) about 1.3 GB.
    assert 0 < figures["image_web_size_mb"] < 600
    assert figures["image_web_size_mb"] < figures["image_worker_size_mb"] < 2500


# --- The site, from the image -------------------------------------------------------------


def test_health_and_readiness_answer_200(site: Site) -> None:
    assert requests.get(f"{site.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{site.url}/readyz", timeout=5).json() == {"status": "ok"}


def test_the_image_healthcheck_passes_in_the_running_container(site: Site) -> None:
    podman("healthcheck", "run", site.containers.ids["web"])


def test_a_student_signs_up_and_logs_in(student: requests.Session) -> None:
    assert student.cookies.get("sessionid")


def test_static_files_come_from_the_image_with_long_cache_headers(site: Site) -> None:
    page = requests.get(f"{site.url}/accounts/login/", timeout=10).text
    stylesheet = re.search(r"/static/css/site\.[0-9a-f]{12}\.css", page)
    assert stylesheet, "no hashed stylesheet link in the login page"
    response = requests.get(f"{site.url}{stylesheet.group(0)}", timeout=10)
    assert response.status_code == 200
    assert "max-age=315360000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]


def test_the_worker_container_converts_the_fixture_pdf(
    site: Site, student: requests.Session
) -> None:
    student.get(f"{site.url}/ocr/", timeout=10)
    with HANDWRITTEN_FIXTURE.open("rb") as pdf:
        uploaded = student.post(
            f"{site.url}/ocr/",
            data={"csrfmiddlewaretoken": csrf_token(student)},
            files={"pdf": (HANDWRITTEN_FIXTURE.name, pdf, "application/pdf")},
            allow_redirects=False,
            timeout=60,
        )
    assert uploaded.status_code == 302, uploaded.text[:2000]
    detail = uploaded.headers["Location"]
    deadline = time.monotonic() + 180
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = student.get(f"{site.url}{detail}status/", timeout=10).json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.5)
    assert status.get("status") == "done", (status, site.containers.logs("worker")[-3000:])
    # The link the result page shows (the old /download/ answers 301 to it, tested in the
    # unit tests; requests would follow that redirect without the Secure session cookie).
    download = student.get(f"{site.url}{detail}versions/1/tex/download/", timeout=10)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert ".tex" in download.headers["Content-Disposition"]
    assert "\\documentclass" in download.text
    # With the database backend the web never runs a task itself: the worker container did.
    assert "path=latexocr.tasks.conversion_run_task state=SUCCESSFUL" in site.containers.logs(
        "worker"
    )


COMPILE_SCRIPT = r"""
import django
django.setup()
from latexocr.tex.compiler import latex_compile
source = (
    "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage[french]{babel}"
    "\\usepackage{amsmath}\\begin{document}Soit $f(x) = \\int_0^x t^2\\,dt$.\\end{document}"
)
result = latex_compile(source=source, timeout_s=120, max_output_bytes=50 * 1024 * 1024)
print("COMPILED", result.compiled, result.page_count, result.skipped_reason, result.errors)
"""


def test_the_worker_image_compiles_latex_hardened_as_the_pod(site: Site, worker_image: str) -> None:
    environment = [f"--env={key}={value}" for key, value in site.environment.items()]
    output = run_once(
        worker_image,
        ["python", "-c", COMPILE_SCRIPT],
        [*environment, "--env=DJANGO_SETTINGS_MODULE=platform_site.settings"],
    )
    assert "COMPILED True 1 None []" in output, output[-3000:]


def ask(site: Site, session: requests.Session, message: str) -> requests.Response:
    session.get(f"{site.url}/codegen/", timeout=10)
    return session.post(
        f"{site.url}/codegen/send/",
        json={"message": message},
        headers={"X-CSRFToken": csrf_token(session), "Referer": f"{site.url}/codegen/"},
        timeout=120,
    )


def test_a_codegen_question_is_answered_through_the_fake_webhook(
    site: Site, student: requests.Session
) -> None:
    answer = ask(site, student, "Écris une fonction qui renvoie la somme d'une liste.")
    assert answer.status_code == 200, answer.text[:2000]
    body = answer.json()
    assert {"id", "code", "explanation"} <= set(body)
    assert body["code"].strip()


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(
    site: Site, student: requests.Session
) -> None:
    """Last in this module: it stops the web container. The request in flight is a slow
    codegen question (the fake webhook answers after WEBHOOK_DELAY_S)."""
    web = site.containers.ids["web"]
    statuses: list[int] = []
    request = threading.Thread(
        target=lambda: statuses.append(
            ask(site, student, "Trie une liste de dictionnaires.").status_code
        )
    )
    request.start()
    time.sleep(WEBHOOK_DELAY_S / 3)
    started = time.monotonic()
    podman("kill", "--signal", "TERM", web)
    exit_code = podman("wait", web, timeout=GRACE_S + 15)
    figures["stop_s"] = round(time.monotonic() - started, 2)
    request.join(timeout=30)
    assert statuses == [200], site.containers.logs("web")[-3000:]
    assert exit_code == "0", site.containers.logs("web")[-3000:]
    assert figures["stop_s"] < GRACE_S
