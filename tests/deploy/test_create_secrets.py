"""k8s/create-secrets.sh run against a fake `kubectl` that records each call.

The fake answers `get secret … -o jsonpath={.data.KEY}` from FAKE_SECRET_<KEY> variables
(base64, as the real one), and keeps the arguments of `create secret` and the Secret piped
to `apply`, so the tests see exactly what would reach the cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

SCRIPT = ROOT / "k8s" / "create-secrets.sh"
WEBHOOK_URL = "https://hook.eu1.make.com/fake-test-hook"

FAKE_KUBECTL = r"""#!/usr/bin/env bash
set -euo pipefail
log="$FAKE_KUBECTL_DIR/calls"
printf '%s\n' "$*" >> "$log"
case " $* " in
    *" get secret "*)
        key="$(printf '%s\n' "$@" | sed -n 's/^jsonpath={\.data\.\(.*\)}$/\1/p')"
        var="FAKE_SECRET_$key"
        [ -n "${!var:-}" ] || exit 1
        printf '%s' "${!var}" | base64
        ;;
    *" create secret "*)
        printf '%s\n' "$@" > "$FAKE_KUBECTL_DIR/create-args"
        echo "kind: Secret"
        ;;
    *" apply "*) cat > "$FAKE_KUBECTL_DIR/applied" ;;
esac
"""


@pytest.fixture
def fake_kubectl(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    return tmp_path


def run_script(fake_kubectl: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    kept = {
        name: value
        for name, value in os.environ.items()
        if name in ("HOME", "LANG", "LC_ALL", "TMPDIR")
    }
    path = (
        f"{fake_kubectl / 'bin'}:{os.path.dirname(shutil.which('python3') or '/usr/bin/python3')}"
    )
    return subprocess.run(
        ["bash", str(SCRIPT), "platform"],
        env={
            **kept,
            "PATH": f"{path}:/usr/bin:/bin",
            "FAKE_KUBECTL_DIR": str(fake_kubectl),
            "CODEGEN_WEBHOOK_URL": WEBHOOK_URL,
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def created_literals(fake_kubectl: Path) -> dict[str, str]:
    arguments = (fake_kubectl / "create-args").read_text().splitlines()
    prefix = "--from-literal="
    return dict(
        argument.removeprefix(prefix).split("=", 1)
        for argument in arguments
        if argument.startswith(prefix)
    )


def test_without_a_gemini_key_the_secret_is_created_with_a_warning(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl)

    assert result.returncode == 0, result.stderr
    assert "warning: no GEMINI_API_KEY" in result.stderr
    assert "local backend" in result.stderr
    literals = created_literals(fake_kubectl)
    assert literals["GEMINI_API_KEY"] == ""
    assert literals["CODEGEN_WEBHOOK_URL"] == WEBHOOK_URL
    assert (fake_kubectl / "applied").read_text() == "kind: Secret\n"


def test_a_rerun_without_a_gemini_key_keeps_the_one_already_in_the_secret(
    fake_kubectl: Path,
) -> None:
    result = run_script(fake_kubectl, FAKE_SECRET_GEMINI_API_KEY="fake-gemini-key-in-cluster")

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert created_literals(fake_kubectl)["GEMINI_API_KEY"] == "fake-gemini-key-in-cluster"


def test_without_a_webhook_url_the_secret_is_created_with_a_warning(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl, CODEGEN_WEBHOOK_URL="", GEMINI_API_KEY="fake-gemini-key")

    assert result.returncode == 0, result.stderr
    assert "warning: no CODEGEN_WEBHOOK_URL" in result.stderr
    assert created_literals(fake_kubectl)["CODEGEN_WEBHOOK_URL"] == ""


def test_a_rerun_without_a_webhook_url_keeps_the_one_already_in_the_secret(
    fake_kubectl: Path,
) -> None:
    in_cluster = "https://hook.eu1.make.com/fake-hook-in-cluster"
    result = run_script(
        fake_kubectl,
        CODEGEN_WEBHOOK_URL="",
        GEMINI_API_KEY="fake-gemini-key",
        FAKE_SECRET_CODEGEN_WEBHOOK_URL=in_cluster,
    )

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert created_literals(fake_kubectl)["CODEGEN_WEBHOOK_URL"] == in_cluster
    assert in_cluster not in result.stdout + result.stderr


def test_a_gemini_key_given_is_stored_without_a_warning(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl, GEMINI_API_KEY="fake-gemini-key-for-test")

    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert created_literals(fake_kubectl)["GEMINI_API_KEY"] == "fake-gemini-key-for-test"
    assert "fake-gemini-key-for-test" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "password", ["p@ss", "a:b", "x/y", "q?r", "h#sh", "50%off", "with space", "é-accent"]
)
def test_a_database_password_that_would_break_database_url_is_refused_clearly(
    fake_kubectl: Path, password: str
) -> None:
    result = run_script(fake_kubectl, POSTGRES_PASSWORD=password)

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD may only hold letters, digits and . _ ~ -" in result.stderr
    assert password not in result.stderr
    assert not (fake_kubectl / "create-args").exists()


def test_a_generated_database_password_fits_in_database_url(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl)

    assert result.returncode == 0, result.stderr
    password = created_literals(fake_kubectl)["POSTGRES_PASSWORD"]
    assert len(password) == 48
    assert all(character in "0123456789abcdef" for character in password)


def test_an_existing_database_password_is_kept(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl, FAKE_SECRET_POSTGRES_PASSWORD="Kept-Pass_word.1~")

    assert result.returncode == 0, result.stderr
    assert created_literals(fake_kubectl)["POSTGRES_PASSWORD"] == "Kept-Pass_word.1~"


def test_a_rerun_keeps_the_django_secret_key_so_nobody_is_logged_out(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl, FAKE_SECRET_DJANGO_SECRET_KEY="fake-secret-key-in-cluster")

    assert result.returncode == 0, result.stderr
    assert created_literals(fake_kubectl)["DJANGO_SECRET_KEY"] == "fake-secret-key-in-cluster"


def test_a_first_run_generates_a_long_django_secret_key(fake_kubectl: Path) -> None:
    result = run_script(fake_kubectl)

    assert result.returncode == 0, result.stderr
    assert len(created_literals(fake_kubectl)["DJANGO_SECRET_KEY"]) == 100
