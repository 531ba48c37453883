"""The fake webhook as a process, the way benchmarks and gunicorn-based tests start it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def post(port: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook",
        data=json.dumps({"message": "Somme d'une liste"}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_fake_runs_as_a_process_and_answers_like_an_llm_after_its_delay() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_site.llm.tests.fakes.webhook",
            "--port",
            "0",
            "--delay-s",
            "0.3",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, port = process.stdout.readline().split()
        started = time.monotonic()
        status, body = post(port)
        elapsed = time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=5)

    assert ready == "READY"
    assert status == 200
    assert "```python" in body
    assert "**Explication :**" in body
    assert "Somme d'une liste" in body
    assert elapsed >= 0.3


def test_the_fake_process_checks_the_api_key_when_given_one() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "platform_site.llm.tests.fakes.webhook",
            "--port",
            "0",
            "--api-key",
            "k",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().split()[1]
        refused = post(port)
        accepted = post(port, {"x-make-apikey": "k"})
    finally:
        process.terminate()
        process.wait(timeout=5)

    assert refused[0] == 401
    assert accepted[0] == 200
