"""The retrieval package's modules import one way: no module imports another that imports it
back, directly or through others, at the top or inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "retrieval"


def imports_of(path: Path, package: Path = PACKAGE) -> set[str]:
    """The retrieval modules ``path`` imports anywhere in it (relative or absolute)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base.split(".")[0] == "retrieval":
                inner = base.split(".", 1)[1] if base.startswith("retrieval") and "." in base else base
                if inner and inner != "retrieval":
                    out.add(inner.split(".")[0])
                else:  # from . import grams
                    out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("retrieval."))
    modules = {p.stem for p in package.glob("*.py")}
    return (out & modules) - {path.stem}


def graph() -> dict[str, set[str]]:
    return {p.stem: imports_of(p) for p in PACKAGE.glob("*.py")}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a path of modules, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    (tmp_path / "a.py").write_text("from .b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from . import a\n")
    edges = {p.stem: imports_of(p, tmp_path) for p in tmp_path.glob("*.py")}
    assert cycle(edges) == ["a", "b", "a"]


def test_retrieval_has_no_import_cycle():
    edges = graph()
    assert edges["index"] >= {"postings", "scoring", "vocab"}  # the graph is really read
    assert cycle(edges) is None, " → ".join(cycle(edges))
