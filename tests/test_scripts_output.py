"""The scripts as a newcomer meets them: nothing empty or alarming printed, no lock failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import ROOT

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of scripts/lib.sh in a project whose .venv python records its arguments."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "lib.sh", tmp_path / "scripts" / "lib.sh")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "constraints.txt").write_text("django==6.1\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def ensure_venv(project: Path, extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'source scripts/lib.sh && ensure_venv "{extras}"'],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )


def test_installing_without_extras_names_no_empty_list(project: Path) -> None:
    result = ensure_venv(project, "")

    assert result.stderr == "==> installing Python packages\n"


def test_installing_with_extras_names_them_and_installs_the_project_not_editable(
    project: Path,
) -> None:
    result = ensure_venv(project, "dev")

    assert result.stderr == "==> installing Python packages (dev)\n"
    install = (project / ".venv" / "bin" / "calls").read_text().splitlines()[-1]
    assert install.endswith(f"{project}[dev]")
    assert " -e " not in f" {install} "


def test_a_second_run_with_nothing_changed_installs_nothing(project: Path) -> None:
    ensure_venv(project, "dev")

    assert ensure_venv(project, "dev").stderr == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="scripts/system-packages installs only as root")
def test_system_packages_waits_for_a_dpkg_lock_held_by_another_apt(tmp_path: Path) -> None:
    # Stand-ins for Debian's tools: nothing is installed, every package exists, and apt-get
    # records how it was called.
    for name, body in {
        "dpkg-query": "exit 1",
        "apt-cache": "exit 0",
        "apt-get": f'echo "$*" >> {tmp_path}/apt-get.calls',
    }.items():
        tool = tmp_path / name
        tool.write_text(f"#!/bin/sh\n{body}\n")
        tool.chmod(0o755)

    subprocess.run(
        [str(ROOT / "scripts" / "system-packages"), "sqlite"],
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    update, install = (tmp_path / "apt-get.calls").read_text().splitlines()
    for call in (update, install):
        assert "-o DPkg::Lock::Timeout=600" in call
    assert update.endswith("update -qq")
    assert " install " in install and "gettext" in install
