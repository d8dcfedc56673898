"""Where the CPU went: per-process CPU seconds from /proc, sampled at the edges of each phase."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MIN_WALL_S = 0.5
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of `pid` (all its threads), or None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def machine_busy_seconds() -> float | None:
    """Non-idle CPU seconds of the whole machine since boot (all cores)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS


@dataclass
class CpuMeter:
    """Named processes whose CPU use is read at marks; `share` gives cores used between two marks."""

    pids: dict[str, int]
    marks: list[tuple[str, float, dict[str, float | None]]] = field(default_factory=list)

    def mark(self, label: str, now: float) -> None:
        readings = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        readings["machine"] = machine_busy_seconds()
        self.marks.append((label, now, readings))

    def cores(self, start: str, end: str) -> dict[str, float]:
        """Average cores each process used between two marks (1.0 = one core flat out)."""
        (_, t0, a), (_, t1, b) = self._mark(start), self._mark(end)
        wall = t1 - t0
        if wall < MIN_WALL_S:  # too short to say anything (two marks in one poll)
            return {}
        return {
            name: round((b[name] - a[name]) / wall, 2)  # type: ignore[operator]
            for name in a
            if a[name] is not None and b.get(name) is not None
        }

    def used(self, name: str, start: str, end: str) -> float | None:
        """CPU seconds `name` used between two marks."""
        a, b = self._mark(start)[2].get(name), self._mark(end)[2].get(name)
        return None if a is None or b is None else b - a

    def _mark(self, label: str) -> tuple[str, float, dict[str, float | None]]:
        return next(m for m in self.marks if m[0] == label)


def describe(cores: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.2f}" for name, value in sorted(cores.items(), key=lambda kv: -kv[1]))
