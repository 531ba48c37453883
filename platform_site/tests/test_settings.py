from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def django_setup_with(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        # A developer's .env (scripts/run) must not fill what each test leaves out.
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "platform_site.settings",
            "DJANGO_ENV_FILE": "",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    result = django_setup_with({"DJANGO_DEBUG": "false", "DJANGO_ALLOWED_HOSTS": "example.org"})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_refuse_to_start_without_allowed_hosts() -> None:
    result = django_setup_with({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "fake-key-for-test"})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_quickstart_settings_start_without_any_variable() -> None:
    result = django_setup_with({"DJANGO_DEBUG": "true"})

    assert result.returncode == 0, result.stderr
    # No banner on every start and every manage.py command (django-axes prints its version).
    assert "AXES" not in result.stdout + result.stderr


@pytest.mark.parametrize("variable", ["DJANGO_LOG_FORMAT", "DJANGO_TASKS_BACKEND"])
def test_a_misspelt_choice_stops_start_up_naming_the_variable(variable: str) -> None:
    result = django_setup_with({"DJANGO_DEBUG": "true", variable: "yaml"})

    assert result.returncode != 0
    assert variable in result.stderr


def test_check_deploy_reports_no_issues_under_production_variables() -> None:
    kept = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env={
            **kept,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "a-fake-but-long-and-random-looking-key-8c1f0e4b9d2a7c6e5f3b1a0d",
            "DJANGO_ALLOWED_HOSTS": "etudes.example.org",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://etudes.example.org",
            "DJANGO_ENV_FILE": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_development_env_file_fills_the_variables_the_environment_leaves_unset(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "DJANGO_SECRET_KEY=from-the-file\nDJANGO_ALLOWED_HOSTS=example.org\n"
        "DJANGO_LOG_FORMAT=yaml\n",
        encoding="utf-8",
    )

    result = django_setup_with(
        {"DJANGO_DEBUG": "false", "DJANGO_LOG_FORMAT": "text", "DJANGO_ENV_FILE": str(env_file)}
    )

    # The key and hosts came from the file; its misspelt log format lost to the environment.
    assert result.returncode == 0, result.stderr


def test_scripts_run_writes_a_private_development_env_once_and_manage_py_reads_it(
    tmp_path: Path,
) -> None:
    def write_env() -> None:
        subprocess.run(
            [
                "bash",
                "-c",
                'source scripts/lib.sh && ROOT="$1" && ensure_dev_env',
                "-",
                str(tmp_path),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=60,
        )

    write_env()
    env_file = tmp_path / ".env"
    first = env_file.read_text(encoding="utf-8")
    write_env()

    assert env_file.read_text(encoding="utf-8") == first
    assert env_file.stat().st_mode & 0o077 == 0
    assert "DJANGO_DEBUG=true" in first
    assert f"DATABASE_URL=sqlite:///{tmp_path}/db.sqlite3" in first
    key = re.search(r"^DJANGO_SECRET_KEY=(\S+)$", first, re.MULTILINE)
    assert key and len(key[1]) >= 50
    # A fresh terminal: no DJANGO_ variable at all, only the file.
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    check = subprocess.run(
        [sys.executable, "manage.py", "import_students", "--help"],
        cwd=ROOT,
        env={**kept, "DJANGO_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_every_variable_the_settings_read_is_documented_in_the_readme() -> None:
    settings_source = "".join(
        module.read_text(encoding="utf-8")
        for module in sorted((ROOT / "platform_site" / "settings").glob("*.py"))
    )
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))

    assert len(variables) > 30  # the pattern still finds them
    assert sorted(name for name in variables if f"`{name}`" not in readme) == []


POOL_PROBE = """
import threading
import django
django.setup()
from django.db import connection

pids = []

def one_request():
    with connection.cursor() as cursor:
        cursor.execute("select pg_backend_pid()")
        pids.append(cursor.fetchone()[0])
    connection.close()  # the end of a request: back to the pool

for _ in range(6):
    thread = threading.Thread(target=one_request)
    thread.start()
    thread.join()
print(len(set(pids)))
"""


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the connection pool is PostgreSQL's (psycopg_pool)",
)
def test_with_a_pool_requests_in_new_threads_reuse_one_postgresql_connection() -> None:
    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    environment = {
        **kept,
        "DJANGO_SETTINGS_MODULE": "platform_site.settings",
        "DJANGO_ENV_FILE": "",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": server,
    }

    def backends_used(pool_size: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", POOL_PROBE],
            cwd=ROOT,
            env={**environment, "DJANGO_DB_POOL_MAX_SIZE": pool_size},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return int(result.stdout.strip().splitlines()[-1])

    # Six requests, each in a thread of its own as under ASGI: a pool of at most 3 connections
    # serves them all; without it each request opens its own.
    assert backends_used("3") <= 3
    assert backends_used("0") == 6


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"),
    reason="the SQLite pass only",
)
@pytest.mark.django_db
def test_each_sqlite_test_process_has_its_test_database_in_memory() -> None:
    # scripts/test runs the SQLite pass with pytest-xdist: a test database in a file would be
    # the same file for every worker, one in memory is each worker's own.
    name = str(connection.settings_dict["NAME"])
    assert name == ":memory:" or "mode=memory" in name, name
