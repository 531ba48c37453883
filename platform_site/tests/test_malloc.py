from __future__ import annotations

import platform

import pytest

from platform_site.malloc import DEFAULTS, malloc_settings, malloc_tune


def test_the_defaults_apply_when_the_environment_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)

    assert malloc_settings() == {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 131072}


def test_the_environment_wins_and_a_bad_value_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "lots")

    assert malloc_settings() == {
        "MALLOC_ARENA_MAX": 4,
        "MALLOC_MMAP_THRESHOLD_": DEFAULTS["MALLOC_MMAP_THRESHOLD_"],
    }


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt() is glibc's")
def test_mallopt_accepts_both_settings_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")

    assert malloc_tune() == {"MALLOC_ARENA_MAX": 2, "MALLOC_MMAP_THRESHOLD_": 131072}
