"""The benchmark harness runs end to end on one cheap scenario and reports real figures.

It starts like `python -m bench` does (its own database, migrated; static files collected) but
runs only the roster import, so it stays well under a minute.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.servers import ROOT, server_url

pytestmark = pytest.mark.bench


@pytest.fixture
def bench_database_url() -> Iterator[str]:
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        pytest.skip("the benchmark harness needs DATABASE_URL to point at a PostgreSQL server")
    database = f"bench_smoke_{secrets.token_hex(4)}"
    admin_url = server_url(database_url, "postgres")
    yield server_url(database_url, database)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_the_harness_prints_and_writes_the_roster_row_with_its_figure_and_verdict(
    bench_database_url: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "roster", "--output", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": bench_database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5,000-row roster preview + import" in result.stdout
    report = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["quick"] is True
    csv_row, xlsx_row = report["rows"]
    assert xlsx_row["scenario"].startswith("5,000-row roster from .xlsx preview + import")
    for row in (csv_row, xlsx_row):
        assert isinstance(row["value"], float)
        assert 0 < row["value"] < 120
        assert row["unit"] == "s"
        assert row["verdict"] == ("PASS" if row["value"] < 10 else "MISS")
    row = csv_row
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| scenario | figure |" in markdown
    assert f"| {row['verdict']} |" in markdown
