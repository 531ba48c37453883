"""The fake Gemini as a process, the way benchmarks and gunicorn-based tests start it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]


def test_the_fake_runs_as_a_process_and_prints_its_port_when_ready() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "platform_site.llm.tests.fakes.gemini", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, port = process.stdout.readline().split()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models/gemini-3.8-flash:generateContent",
            data=json.dumps({"contents": [{"parts": [{"text": "Bonjour"}]}]}).encode(),
            headers={"x-goog-api-key": "any", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.load(response)
    finally:
        process.terminate()
        process.wait(timeout=5)

    assert ready == "READY"
    assert answer["candidates"][0]["finishReason"] == "STOP"
    assert "Bonjour" in answer["candidates"][0]["content"]["parts"][0]["text"]
