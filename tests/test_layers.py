"""The package's modules import each other without a cycle, and the stores are reached only through Library."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import cqc_assistant

PACKAGE = Path(cqc_assistant.__file__).parent


def _module(path: Path) -> str:
    parts = ["cqc_assistant", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, *, lazy: bool) -> set[str]:
    """Package modules `path` imports at its top level (with `lazy`: inside functions too; never the
    imports under `if TYPE_CHECKING:`, which only the type checker runs)."""
    name = _module(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import) and (top or lazy):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and (top or lazy):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return found


def import_graph(*, lazy: bool = False) -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module(p) for p in paths}
    return {_module(p): {m for m in _imports(p, lazy=lazy) if m in modules and m != _module(p)} for p in paths}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (its modules in order), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := walk(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


# Imports inside functions that close a cycle today, in the embedder's modules (loading the model picks its
# backend and reads the settings): issue 17's "no work at import time" part, not the storage layers.
KNOWN_LAZY = {
    ("cqc_assistant.embedding", "cqc_assistant.config"),
    ("cqc_assistant.embedding", "cqc_assistant.minilm_onnx"),
    ("cqc_assistant.minilm_onnx", "cqc_assistant.config"),
}


def _acyclic(graph: dict[str, set[str]]) -> list[str] | None:
    # A module importing its own package (`from . import x` in a subpackage) is not a dependency cycle.
    return cycle({m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()})


def test_no_import_cycle_among_the_package_modules() -> None:
    top = import_graph()
    assert "cqc_assistant.index.catalogue" in top["cqc_assistant.library"]
    assert _acyclic(top) is None, " -> ".join(_acyclic(top) or [])


def test_no_cycle_through_imports_inside_functions_either() -> None:
    """A lazy import is still a dependency (library.py once imported ingest/ for the recovery's vectors)."""
    graph = import_graph(lazy=True)
    for src, dst in KNOWN_LAZY:
        graph[src].discard(dst)
    assert _acyclic(graph) is None, " -> ".join(_acyclic(graph) or [])
    assert not any(m.startswith("cqc_assistant.ingest") for m in graph["cqc_assistant.library"])


def test_storage_is_reached_only_through_the_library() -> None:
    """Outside library.py and index/, no module (the CLI and the app included) reaches through a Library into
    its catalogue or vectors."""
    reach = re.compile(r"\.(catalogue|vectors|collection)\b")
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "library.py" or rel.startswith("index/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0].strip()
            if reach.search(code) and not code.startswith(("from ", "import ")):
                offenders.append(f"{rel}:{n}: {code}")
    assert offenders == []
