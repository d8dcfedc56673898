"""The layers import downwards only: one composition root, a runtime that imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

from settings import REPO_ROOT

ABOVE_RUNTIME = ("agents", "views", "tables", "app")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (imported for type checkers only)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            todo += node.orelse
            continue
        todo += list(ast.iter_child_nodes(node))
    return out


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(package: str) -> list[Path]:
    return sorted((REPO_ROOT / package).glob("*.py"))


def test_the_runtime_imports_nothing_above_it() -> None:
    bad = {p.name: sorted(n for n in imports(p) if n.split(".")[0] in ABOVE_RUNTIME) for p in modules("runtime")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_nothing_imports_the_composition_root() -> None:
    users = [p for package in ("agents", "views", "tables", "runtime", "domain", "streams", "analytics", "ops", "bench")
             for p in modules(package) if "app" in imports(p)]
    assert users == []


def test_views_do_not_import_agents() -> None:
    found = {p.name: sorted(n for n in imports(p) if n.split(".")[0] == "agents") for p in modules("views")}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_domain_imports_no_framework_client_or_clock() -> None:
    banned = ("faust", "aiokafka", "kafka", "duckdb", "asyncio", "runtime", "agents", "views", "tables", "ops")
    found = {p.name: sorted(n for n in imports(p) if n.split(".")[0] in banned) for p in modules("domain")}
    assert {k: v for k, v in found.items() if v} == {}


PACKAGES = ("agents", "analytics", "bench", "broker", "dashboard", "demo", "domain", "ops", "runtime", "sim",
            "streams", "tables", "views")


def _module_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (tests aside)."""
    paths = {"app": REPO_ROOT / "app.py", "settings": REPO_ROOT / "settings.py"}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        found = set()
        for imported in imports(path):
            # `from runtime import replies` imports the module runtime.replies, not the package's names
            submodules = [f"{imported}.{n}" for n in _from_names(path, imported) if f"{imported}.{n}" in paths]
            found |= {c for c in (submodules or [imported]) if c in paths and c != name}
        graph[name] = found
    return graph


def _from_names(path: Path, module: str) -> list[str]:
    names: list[str] = []
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            names += [alias.name for alias in node.names]
    return names


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_there_is_no_import_circle_among_the_projects_modules() -> None:
    graph = _module_graph()
    assert len(graph) > 100  # the walk found the project
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_circle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
