"""The project's modules import one way: no module of retrieval/ or bot/ imports another that
imports it back, directly or through others, at the top or inside a function; and the library
never imports the frontends."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("retrieval", "bot")


def module_names(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted name → file of every module of ``packages`` (a package's own name for its __init__)."""
    out = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules ``name`` (in file ``path``) imports anywhere in it, relative or absolute."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(head + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m in known} - {name}


def graph(root: Path = ROOT, packages=PACKAGES) -> dict[str, set[str]]:
    known = module_names(root, packages)
    return {name: imports_of(name, path, known) for name, path in known.items()}


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
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from .b import x\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from . import a\n")
    assert cycle(graph(tmp_path, ("pkg",))) == ["pkg.a", "pkg.b", "pkg.a"]


def test_no_import_cycle_in_the_library_or_the_frontends():
    edges = graph()
    assert edges["retrieval.index"] >= {"retrieval.postings", "retrieval.scoring", "retrieval.vocab"}  # really read
    assert "bot.answering" in edges["bot.telegram.handlers"]
    assert cycle(edges) is None, " → ".join(cycle(edges))


def test_the_library_never_imports_the_frontends():
    edges = graph()
    assert not {(a, b) for a, bs in edges.items() if a.startswith("retrieval") for b in bs if b.startswith("bot")}
