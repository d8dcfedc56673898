"""The benchmark's outcome: summary lines for people, one JSON line for programs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from settings import REPO_ROOT

RESULT_KEYS = (
    "bench", "events", "events_per_s", "movements_per_s", "worker_events_per_s", "floor_per_s",
    "publish_per_s", "quick", "kafka", "cpus", "commit",
)


@dataclass(frozen=True)
class Measured:
    """Seconds are counted from the first publish; `floor_per_s` comes from its own phase."""

    events: int
    movements: int
    publish_s: float
    worker_s: float  # (a) the worker applied every movement
    sink_s: float  # (b) DuckDB committed every row, per the sink's /metrics
    floor_per_s: float
    lag_p50_s: float | None = None
    lag_p99_s: float | None = None
    worker_cpu_s: float | None = None  # the worker's CPU seconds until (a): independent of contention
    changelog_bytes_per_movement: float | None = None
    cores: dict[str, float] = field(default_factory=dict)  # cores each process (and the machine) used until (a)


def rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def result_line(m: Measured, quick: bool, kafka: str, cpus: int | None, commit: str | None) -> dict[str, object]:
    """The last stdout line: RESULT_KEYS first, then context that helps reading them."""
    events_per_s = rate(m.events, m.sink_s)
    line: dict[str, object] = {
        "bench": "pipeline",
        "events": m.events,
        "events_per_s": events_per_s,
        "movements_per_s": rate(m.movements, m.worker_s),
        "worker_events_per_s": rate(m.events, m.worker_s),
        "floor_per_s": round(m.floor_per_s, 1),
        "publish_per_s": rate(m.events, m.publish_s),
        "quick": quick,
        "kafka": kafka,
        "cpus": cpus,
        "commit": commit,
        "movements": m.movements,
        "ratio": round(events_per_s / m.floor_per_s, 3) if m.floor_per_s else None,
        "done_by": "sink /metrics rows_inserted",
    }
    if m.worker_cpu_s:
        line["worker_cpu_ms_per_movement"] = round(1000 * m.worker_cpu_s / max(m.movements, 1), 3)
    if m.changelog_bytes_per_movement is not None:
        line["stock_changelog_bytes_per_movement"] = round(m.changelog_bytes_per_movement)
    if m.lag_p50_s is not None:
        line["sink_lag_p50_s"] = round(m.lag_p50_s, 2)
        line["sink_lag_p99_s"] = round(m.lag_p99_s or 0.0, 2)
    if m.cores:
        line["cores"] = m.cores
    return line


def summary(line: dict[str, object], m: Measured) -> list[str]:
    return [
        f"events {m.events}, movements {m.movements} ({m.movements / max(m.events, 1):.1f} per event)",
        f"publish   {m.publish_s:7.1f} s  {line['publish_per_s']:>9} events/s",
        f"worker    {m.worker_s:7.1f} s  {line['worker_events_per_s']:>9} events/s  "
        f"{line['movements_per_s']} movements/s (all applied)",
        f"duckdb    {m.sink_s:7.1f} s  {line['events_per_s']:>9} events/s  (every row committed)",
        f"floor               {line['floor_per_s']:>9} records/s  (raw aiokafka read + send, same records)",
        f"pipeline / floor    {line['ratio']}",
    ]


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def run_cli(run: Callable[[Any], dict[str, object]], args: Any) -> int:
    """A benchmark's entry point: readable logs on stderr, the JSON result as the last stdout line."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    print(json.dumps(run(args)), flush=True)
    return 0
