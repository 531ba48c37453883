"""The validators the deployment tests need, installed apart from the app's virtualenv.

checkov alone pulls about a hundred packages the site never imports, so the Python tools
live in `.cache/tools-venv` (created with the interpreter running the tests, from the pinned
`requirements/deploy-tools.txt`) and Istio's schema validators in `.cache/node-tools`
(npm, from `tests/deploy/node/`). Each is reinstalled only when its pins change.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
TOOLS_VENV = CACHE / "tools-venv"
TOOLS_REQUIREMENTS = ROOT / "requirements" / "deploy-tools.txt"
NODE_SOURCE = Path(__file__).resolve().parent / "node"
NODE_TOOLS = CACHE / "node-tools"


def _digest(*paths: Path) -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()


def tools_venv() -> Path:
    """The bin folder of the tools venv, installed or refreshed from the pinned requirements."""
    stamp = TOOLS_VENV / ".installed"
    want = _digest(TOOLS_REQUIREMENTS)
    if not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(TOOLS_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        install = subprocess.run(
            [
                str(TOOLS_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(TOOLS_REQUIREMENTS),
            ],
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            pytest.fail(f"could not install the manifest validators:\n{install.stderr[-3000:]}")
        stamp.write_text(want)
    return TOOLS_VENV / "bin"


def node_tools() -> Path:
    """The folder holding node_modules/@kubernetes-models/istio and our validator script."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for Istio's schema validators")
    stamp = NODE_TOOLS / ".installed"
    sources = sorted(NODE_SOURCE.iterdir())
    want = _digest(*sources)
    if not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(NODE_TOOLS, ignore_errors=True)
        NODE_TOOLS.mkdir(parents=True)
        for source in sources:
            shutil.copy(source, NODE_TOOLS / source.name)
        install = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=NODE_TOOLS,
            capture_output=True,
            text=True,
        )
        if install.returncode != 0:
            pytest.fail(f"could not install the Istio validators:\n{install.stderr[-3000:]}")
        stamp.write_text(want)
    return NODE_TOOLS


def yaml_documents(text: str) -> list[dict[str, Any]]:
    """Parse multi-document YAML with the tools venv's PyYAML (the app's venv has none)."""
    parsed = subprocess.run(
        [
            str(tools_venv() / "python"),
            "-c",
            "import json, sys, yaml; "
            "print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
        ],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    documents: list[dict[str, Any]] = json.loads(parsed.stdout)
    return documents
