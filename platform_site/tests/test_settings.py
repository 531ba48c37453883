from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def django_setup_with(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**kept, "DJANGO_SETTINGS_MODULE": "platform_site.settings", **environment},
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
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_variable_the_settings_read_is_documented_in_the_readme() -> None:
    settings_source = (ROOT / "platform_site" / "settings.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', settings_source))

    assert len(variables) > 30  # the pattern still finds them
    assert sorted(name for name in variables if f"`{name}`" not in readme) == []
