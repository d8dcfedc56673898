"""Reconciliation verdicts: compare what DuckDB says with what the authority says. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_DRIFT, DRIFT, UNCHECKED, BEHIND = 0, 1, 2, 3


@dataclass(frozen=True)
class Check:
    """One reconciliation check: how many things were compared, which differed (or why it could not run)."""

    name: str
    compared: int = 0
    drifted: int = 0
    examples: tuple[str, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = field(default=())
    # "drift": a difference means the projection is wrong; "behind": the authority has work
    # due that it has not done yet (the wallet timer is late), which no projection can show.
    kind: str = "drift"

    @property
    def status(self) -> str:
        if self.error is not None:
            return "unchecked"
        return self.kind if self.drifted else "ok"


def compare_maps(name: str, duckdb: Mapping[Any, Any], authority: Mapping[Any, Any], limit: int = 3) -> Check:
    """Every key in either map must have the same value in both; a missing key is drift."""
    keys = duckdb.keys() | authority.keys()
    differ = sorted((k for k in keys if duckdb.get(k) != authority.get(k)), key=repr)
    examples = tuple(f"{k}: duckdb={duckdb.get(k)!r} authority={authority.get(k)!r}" for k in differ[:limit])
    return Check(name, compared=len(keys), drifted=len(differ), examples=examples)


def compare_counts(duckdb: Mapping[str, int], topics: Mapping[str, int]) -> list[Check]:
    """Per fact table: rows in DuckDB against distinct rows the topics imply (one check each)."""
    return [
        Check(f"{table} rows", compared=topics.get(table, 0),
              drifted=abs(duckdb.get(table, 0) - topics.get(table, 0)),
              examples=() if duckdb.get(table, 0) == topics.get(table, 0)
              else (f"duckdb={duckdb.get(table, 0)} topics={topics.get(table, 0)}",))
        for table in sorted(duckdb.keys() | topics.keys())
    ]


def exit_code(checks: list[Check]) -> int:
    """1 if any check found drift; else 2 if any could not run; else 3 if the authority is behind
    with changes that fell due; else 0."""
    if any(c.status == "drift" for c in checks):
        return DRIFT
    if any(c.status == "unchecked" for c in checks) or not checks:
        return UNCHECKED
    if any(c.status == "behind" for c in checks):
        return BEHIND
    return NO_DRIFT


def render(checks: list[Check]) -> str:
    """A plain-text table, one line per check, examples and errors indented below it."""
    width = max([len(c.name) for c in checks] + [5])
    lines = [f"{'check':<{width}}  {'compared':>9}  {'drifted':>8}  status", "-" * (width + 31)]
    for c in checks:
        lines.append(f"{c.name:<{width}}  {c.compared:>9}  {c.drifted:>8}  {c.status}")
        for detail in (*c.examples, *c.notes, *([c.error] if c.error else [])):
            lines.append(f"    {detail}")
    return "\n".join(lines)
