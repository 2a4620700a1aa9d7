"""The layers of glmkit point one way: no module imports, directly or through others, a
module that imports it back -- counting imports at module level AND inside functions
(a function-level import hides a cycle from Python's loader, not from the design).

The graph is built from the source with ``ast``: an edge A -> B for every
``import glmkit.B`` / ``from .B import ...`` / ``from . import B`` in A (a name imported
from a package counts as that package's module, or as the submodule of that name). Also:
no module of glmkit longer than MAX_LINES lines.
"""
from __future__ import annotations

import ast
from pathlib import Path

import glmkit

ROOT = Path(glmkit.__file__).parent
#: ~600 lines per module (design notes), with a little slack for docstrings.
MAX_LINES = 650


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ("glmkit",) + path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _targets(name: str, path: Path, node: ast.AST, mods: dict) -> set[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in mods}
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = package.split(".")[:len(package.split(".")) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("glmkit"):
        return set()
    out = set()
    for a in node.names:
        sub = f"{target}.{a.name}"
        if sub in mods:
            out.add(sub)
        elif target in mods:
            out.add(target)
    return out


def import_graph(function_level: bool = True) -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        nodes = ast.walk(tree) if function_level else iter(tree.body)
        edges: set[str] = set()
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _targets(name, path, node, mods)
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_at_module_level():
    assert cycles(import_graph(function_level=False)) == []


def test_no_import_cycle_counting_imports_inside_functions():
    found = cycles(import_graph(function_level=True))
    assert found == [], found


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_persistence_depends_on_results_not_the_reverse():
    """Loading builds results (loading -> results); results reach only the writer
    (results.save -> persistence), which reads results by their attributes and imports
    neither results nor loading."""
    g = import_graph()
    assert "glmkit.results" in _reaches(g, "glmkit.loading")
    assert "glmkit.loading" not in _reaches(g, "glmkit.results")
    assert not {"glmkit.results", "glmkit.loading", "glmkit.model"} & _reaches(
        g, "glmkit.persistence")


def test_modules_are_small():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}, long
