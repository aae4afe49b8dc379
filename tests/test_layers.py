"""The layers run one way, and no two modules import each other (even inside a function).

front ends (cli, stack) → application (usecases) → flows → tasks → gateways → models →
foundation (casework). A module may import its own layer or any layer below; front ends speak
to the application layer only (plus the foundation, and the stack they run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from casework.settings import PROJECT_DIR

pytestmark = pytest.mark.unit

LAYERS: list[tuple[str, ...]] = [
    ("cli", "web", "stack"),
    ("usecases",),
    ("flows",),
    ("tasks",),
    ("gateways",),
    ("models",),
    ("casework",),
]
# What each package may import besides itself: stricter than "any layer below" where the
# architecture says so (no SQL or Prefect in a front end, no SQL in a flow).
MAY_IMPORT: dict[str, set[str]] = {
    "cli": {"stack", "usecases", "casework"},
    "web": {"usecases", "casework"},
    "stack": {"gateways", "models", "casework"},
    "usecases": {"tasks", "gateways", "models", "casework"},
    "flows": {"tasks", "gateways", "casework"},
    "tasks": {"gateways", "models", "casework"},
    "gateways": {"models", "casework"},
    "models": {"casework"},
    "casework": set(),
}
PACKAGES = [p for layer in LAYERS for p in layer]


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(tree: ast.AST, known: set[str]) -> Iterator[tuple[int, str]]:
    """Every project module imported anywhere in the file (module level or in a function)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield node.lineno, submodule if submodule in known else node.module


def import_graph(root: Path) -> tuple[dict[str, set[str]], list[str]]:
    """The project's import graph and every import that breaks the layer rules."""
    modules = _modules(root)
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    violations = []
    for name, path in modules.items():
        package = name.split(".")[0]
        for line, target in _imports(ast.parse(path.read_text(encoding="utf-8")), known):
            target_package = target.split(".")[0]
            if target in known and target != name:
                graph[name].add(target)
            if target_package != package and target_package not in MAY_IMPORT[package]:
                violations.append(f"{path.relative_to(root)}:{line} {package} → {target}")
    return graph, violations


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_imports_run_one_way_through_the_layers() -> None:
    _, violations = import_graph(PROJECT_DIR)
    assert violations == []


def test_no_two_modules_import_each_other() -> None:
    graph, _ = import_graph(PROJECT_DIR)
    assert cycles(graph) == []


def test_every_package_is_in_a_layer() -> None:
    top_level = {
        p.name
        for p in PROJECT_DIR.iterdir()
        # tests/ and bench/ drive the product from outside, through any layer
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in ("tests", "bench")
    }
    assert top_level <= set(PACKAGES)


def test_the_check_catches_an_upward_import_and_a_hidden_cycle(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "models" / "a.py").write_text("def f():\n    from models import b\n")
    (tmp_path / "models" / "b.py").write_text("from models.a import f\n")
    (tmp_path / "models" / "c.py").write_text("from tasks.send import x\n")
    (tmp_path / "cli" / "d.py").write_text("import models.a\n")
    graph, violations = import_graph(tmp_path)
    assert cycles(graph) == [["models.a", "models.b"]]
    assert sorted(violations) == ["cli/d.py:1 cli → models.a", "models/c.py:1 models → tasks.send"]


# A module is one job: past this many lines it is doing two (ARCHITECTURE.md).
MAX_MODULE_LINES = 500


def test_no_module_is_over_five_hundred_lines() -> None:
    long = {
        str(path.relative_to(PROJECT_DIR)): lines
        for folder in (*PACKAGES, "tests", "bench")
        for path in (PROJECT_DIR / folder).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
