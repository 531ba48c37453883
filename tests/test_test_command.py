"""scripts/test's stages: each is named, and installs only the Debian packages it needs."""

from __future__ import annotations

import subprocess

from tests.servers import ROOT

STAGES = ["lint", "unit", "sqlite", "browser", "image", "manifests", "bench", "all"]


def packages_of(stage: str) -> list[str]:
    result = subprocess.run(
        [str(ROOT / "scripts" / "system-packages"), "--list", stage],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.split()


def test_an_unknown_stage_is_refused_with_the_list_of_stages() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "test"), "--stage", "everything"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert result.returncode != 0
    assert f"one of: {' '.join(STAGES)}" in result.stderr


def test_the_help_names_every_stage() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "test"), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    for stage in STAGES:
        assert f"--stage {stage}" in result.stdout


def test_each_stage_installs_only_the_debian_packages_it_needs() -> None:
    assert packages_of("lint") == []
    assert packages_of("manifests") == []
    assert "gettext" in packages_of("sqlite") and "latexmk" not in packages_of("sqlite")
    assert "chromium" in packages_of("browser") and "podman" not in packages_of("browser")
    assert "latexmk" in packages_of("unit") and "chromium" not in packages_of("unit")
    assert "podman" in packages_of("image") and "gettext" not in packages_of("image")


def test_the_whole_run_installs_every_listed_package_once() -> None:
    every = packages_of("all")
    by_stage = {package for stage in STAGES[:-1] for package in packages_of(stage)}

    assert sorted(every) == sorted(set(every))
    assert set(every) == by_stage
