from __future__ import annotations

import pytest
from django.urls import resolve, reverse


@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("codegen:index", [], "/codegen/"),
        ("codegen:send", [], "/codegen/send/"),
        ("codegen:history", [], "/codegen/history/"),
        ("codegen:detail", [7], "/codegen/7/"),
        ("codegen:download", [7], "/codegen/7/download/"),
        ("codegen:retry", [7], "/codegen/7/retry/"),
    ],
)
def test_each_url_name_reverses_and_resolves(name: str, args: list[int], path: str) -> None:
    assert reverse(name, args=args) == path
    assert resolve(path).view_name == name
