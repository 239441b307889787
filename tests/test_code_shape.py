"""The toolkit's shape: no import circles, and no two modules, classes or functions sharing a name."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from conftest import TEMPLATE

PACKAGE = TEMPLATE / "scripts" / "src" / "mlops"
# Every command module has these three by design (see mlops/commands/__init__.py).
COMMAND_PROTOCOL = {"HELP", "add_arguments", "run"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The toolkit modules ``path`` imports anywhere in its body (lazy imports in functions count too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in known and target != name}
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_toolkit_has_no_import_circles():
    found = modules()
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}
    assert graph["mlops.project"] >= {"mlops.validation"}  # the walk sees imports at all
    assert cycles(graph) == []


def test_no_two_toolkit_modules_share_a_file_name():
    # Command modules are named after their command (mlops.commands.plan is `mlops plan`) and a package's
    # __init__ and __main__ are Python's names; every other module's file name says what it alone does.
    by_stem = defaultdict(list)
    for name, path in modules().items():
        if not path.stem.startswith("__") and not name.startswith("mlops.commands."):
            by_stem[path.stem].append(name)
    assert {stem: names for stem, names in by_stem.items() if len(names) > 1} == {}


def test_no_two_public_functions_or_classes_share_a_name():
    defined = defaultdict(list)
    for name, path in modules().items():
        for node in ast.parse(path.read_text("utf-8")).body:
            if (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")
                    and not (name.startswith("mlops.commands.") and node.name in COMMAND_PROTOCOL)):
                defined[node.name].append(name)
    assert {key: names for key, names in defined.items() if len(names) > 1} == {}
