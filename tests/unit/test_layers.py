"""The layers import downwards only: one composition root, a runtime that imports nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

from settings import REPO_ROOT

ABOVE_RUNTIME = ("agents", "views", "tables", "app")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
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
