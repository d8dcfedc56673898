"""Why a run was as fast as it was: bytes each topic took, and how long the worker's commits ran."""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.topics import INGEST_TOPICS, INVENTORY_LEDGER, INVENTORY_MOVEMENTS

# mode's warning when a commit takes longer than the commit interval (Faust flushes the
# producer, changelogs included, before it commits the source offsets).
OVERLAP = re.compile(r"Timer commit is overlapping \(interval=([\d.]+) runtime=([\d.]+)\)")


@dataclass(frozen=True)
class Commits:
    overlapping: int
    longest_s: float


def slow_commits(worker_log: str) -> Commits:
    runtimes = [float(m.group(2)) for m in OVERLAP.finditer(worker_log)]
    return Commits(overlapping=len(runtimes), longest_s=max(runtimes, default=0.0))


def byte_lines(sizes: dict[str, int], prefix: str, app_id: str, movements: int) -> tuple[list[str], float | None]:
    """Readable lines about the topics' sizes, and stock-changelog bytes per applied movement."""
    ingest = sum(sizes.get(spec.full_name(prefix), 0) for spec in INGEST_TOPICS)
    named = {
        "ingest topics": ingest,
        "inventory.movements": sizes.get(INVENTORY_MOVEMENTS.full_name(prefix), 0),
        "inventory.ledger": sizes.get(INVENTORY_LEDGER.full_name(prefix), 0),
        "stock changelog": sizes.get(f"{app_id}-stock-changelog", 0),
        "stock-applied changelog": sizes.get(f"{app_id}-stock-applied-changelog", 0),
    }
    per_movement = named["stock changelog"] / movements if movements else None
    lines = ["kafka bytes on disk: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in named.items())]
    if per_movement is not None:
        lines.append(f"stock changelog: {per_movement / 1000:.1f} KB per movement "
                     f"({named['stock changelog'] / max(ingest, 1):.0f}x the ingest bytes)")
    return lines, per_movement
