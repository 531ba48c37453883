"""The layers drawn in docs/architecture.md hold: imports point one way, with no circle.

Read from the source with `ast`, so an import hidden inside a function counts like one at the
top of a module (a lazy import is how a circle hides). Tests, migrations and the benchmark
harness are left out: they may reach across layers to set things up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("platform_site", "accounts", "codegen", "latexocr")

# Lower number, lower layer: a module may import its own unit and lower layers only.
# Units on the same layer stay independent of each other.
LAYERS = {
    "shell": 4,
    "codegen": 3,
    "latexocr": 3,
    "accounts": 2,
    "llm": 2,
    "core": 1,
}
MAX_LINES = 400


def unit_of(module: str) -> str:
    """The layer unit a dotted module name belongs to."""
    parts = module.split(".")
    if parts[0] == "platform_site":
        return parts[1] if len(parts) > 1 and parts[1] in ("core", "llm") else "shell"
    return parts[0]


def is_checked(path: Path) -> bool:
    relative = path.relative_to(ROOT).parts
    return "tests" not in relative and "migrations" not in relative


def source_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if not is_checked(path):
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every project module `path` imports, anywhere in it (the target module when a name
    imported `from` a package is itself a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}"
                yield base


def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(path, module):
            # The longest known module the name starts with: `from x import y` reaches
            # module x.y when it exists, else module x.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, targets in graph.items():
        here = unit_of(module)
        for target in targets:
            there = unit_of(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    return sorted(wrong)


def test_every_import_points_down_the_layers() -> None:
    wrong = layer_violations(import_graph())

    assert wrong == [], "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_the_rule_refuses_upward_and_sideways_imports() -> None:
    graph = {
        "codegen.views": {"platform_site.settings", "latexocr.models", "platform_site.llm.x"},
        "platform_site.llm.x": {"accounts.models", "platform_site.core.failures"},
        "platform_site.core.failures": {"platform_site.llm.x"},
        "platform_site.views": {"codegen.selectors"},
    }

    assert layer_violations(graph) == [
        "codegen.views (codegen) imports latexocr.models (latexocr)",
        "codegen.views (codegen) imports platform_site.settings (shell)",
        "platform_site.core.failures (core) imports platform_site.llm.x (llm)",
        "platform_site.llm.x (llm) imports accounts.models (accounts)",
    ]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_sees_a_circle_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert circles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("module", "unit"),
    [
        ("platform_site.settings", "shell"),
        ("platform_site", "shell"),
        ("platform_site.llm.gemini", "llm"),
        ("platform_site.core.quotas", "core"),
        ("latexocr.engines.pdf", "latexocr"),
        ("accounts.models", "accounts"),
    ],
)
def test_each_module_belongs_to_its_unit(module: str, unit: str) -> None:
    assert unit_of(module) == unit


def test_no_module_of_the_apps_or_layers_is_over_400_lines() -> None:
    modules = source_modules()
    long = {
        name: count
        for name, path in modules.items()
        if unit_of(name) != "shell" and (count := len(path.read_text().splitlines())) > MAX_LINES
    }

    assert long == {}
