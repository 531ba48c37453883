"""Validate custom resources against their CRDs' schemas, as the API server would, offline.

Run by the tools venv's Python (it has jsonschema and PyYAML, the app's venv need not):
    python validate_crds.py CRD_FOLDER < documents.json
prints a JSON list of problems ("Kind/name: path: message"); an object whose kind no CRD of the
folder defines is a problem too. Like `kubectl apply --validate=strict`, a field the schema does
not declare is an error (the API server would prune it silently), unless the schema keeps
unknown fields (x-kubernetes-preserve-unknown-fields). CEL rules (x-kubernetes-validations)
are not evaluated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI v3 schema as JSON Schema, with unknown fields refused."""
    converted = dict(schema)
    if schema.get("x-kubernetes-int-or-string"):
        converted["type"] = ["integer", "string"]
    if schema.get("nullable") and "type" in converted:
        converted["type"] = [
            *([converted["type"]] if isinstance(converted["type"], str) else converted["type"]),
            "null",
        ]
    if "properties" in schema:
        converted["properties"] = {name: strict(sub) for name, sub in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            converted["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        converted["additionalProperties"] = strict(schema["additionalProperties"])
    if "items" in schema:
        converted["items"] = strict(schema["items"])
    for combinator in ("allOf", "anyOf", "oneOf"):
        if combinator in schema:
            # Structural schemas only add constraints here, never fields.
            converted[combinator] = [
                {key: value for key, value in part.items() if key != "properties"}
                for part in schema[combinator]
            ]
    return converted


def schemas(folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema of each served version."""
    found = {}
    for path in sorted(folder.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schema = strict(version["schema"]["openAPIV3Schema"])
                # metadata is the API server's ObjectMeta, not the CRD's to describe.
                schema["properties"]["metadata"] = {"type": "object"}
                found[(f"{group}/{version['name']}", kind)] = schema
    return found


def problems(documents: list[dict[str, Any]], folder: Path) -> list[str]:
    known = schemas(folder)
    found = []
    for document in documents:
        name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        schema = known.get((document.get("apiVersion", ""), document.get("kind", "")))
        if schema is None:
            found.append(
                f"{name}: no CRD defines {document.get('apiVersion')} {document.get('kind')}"
            )
            continue
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(part) for part in error.absolute_path)
            found.append(f"{name}: {path}: {error.message}")
    return found


if __name__ == "__main__":
    print(json.dumps(problems(json.load(sys.stdin), Path(sys.argv[1]))))
