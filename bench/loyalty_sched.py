"""CPU use and CPU starvation: a `bench.cpu.CpuMeter` that also reads how long each process's main thread
waited in the run queue (runnable, no core free) from /proc/<pid>/schedstat.

On this shared 2-core machine a worker that is short of CPU shows both: its CPU seconds say
what each command costs, its run-queue wait says how much of the wall time other processes
took from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.cpu import CpuMeter


def run_queue_s(pid: int) -> float | None:
    """Seconds the main thread of `pid` has spent runnable but not running, or None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
    except OSError:
        return None
    return int(fields[1]) / 1e9 if len(fields) >= 2 else None


@dataclass
class SchedMeter(CpuMeter):
    waits: dict[str, tuple[float, dict[str, float | None]]] = field(default_factory=dict)

    def mark(self, label: str, now: float) -> None:
        super().mark(label, now)
        self.waits[label] = (now, {name: run_queue_s(pid) for name, pid in self.pids.items()})

    def waiting_share(self, name: str, start: str, end: str) -> float | None:
        """Share of the wall time between two marks that `name` waited for a core (0.3 = 30 %)."""
        (t0, a), (t1, b) = self.waits[start], self.waits[end]
        before, after = a.get(name), b.get(name)
        if before is None or after is None or t1 <= t0:
            return None
        return round((after - before) / (t1 - t0), 2)
