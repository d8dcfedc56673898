"""How fresh the analyst snapshot is, and how often to publish it: pure arithmetic, no I/O.

Two figures, kept apart on purpose. **Lag** is the pipeline's: a record's append time on its
source topic (the Kafka record timestamp) to queryable in a published snapshot. **Lateness** is
the producer's: the append time minus the event's business time (`occurred_at`). A replay, a
backfill or a simulated past day is late by days and still has a lag of seconds; measuring lag
from `occurred_at` would show it as days behind, which is no help to whoever runs the sink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The sink may spend at most 1/BACKOFF of its time checkpointing and copying the snapshot.
BACKOFF = 5.0


@dataclass(frozen=True)
class Quantiles:
    """p50, p99 and max of a set of durations, in milliseconds; None when the set was empty."""

    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    def as_dict(self, name: str) -> dict[str, float | None]:
        return {f"{name}_p50_ms": self.p50_ms, f"{name}_p99_ms": self.p99_ms, f"{name}_max_ms": self.max_ms}


@dataclass(frozen=True)
class Freshness:
    """Over the records that one snapshot made queryable: their lag and their events' lateness."""

    records: int = 0
    lag: Quantiles = Quantiles()
    lateness: Quantiles = Quantiles()

    def as_row(self) -> dict[str, float | int | None]:
        """The `sink_status` columns it fills."""
        return {"records": self.records, **self.lag.as_dict("lag"), **self.lateness.as_dict("lateness")}


@dataclass
class Unpublished:
    """Records committed but not yet in a published snapshot: what the next one's freshness is over."""

    records: int = 0
    append_ms: list[int] = field(default_factory=list)  # every record's, dead letters included
    lateness_s: list[float] = field(default_factory=list)  # every decoded event's

    def add(self, records: int, append_ms: Sequence[int], lateness_s: Sequence[float]) -> None:
        self.records += records
        self.append_ms.extend(append_ms)
        self.lateness_s.extend(lateness_s)

    def clear(self) -> None:
        self.records = 0
        self.append_ms.clear()
        self.lateness_s.clear()

    def freshness(self, lags: Sequence[float]) -> Freshness:
        """These records' freshness, given their lags (`lags_s` of the snapshot's publish time)."""
        return Freshness(self.records, quantiles(lags), quantiles(self.lateness_s))


def lags_s(published_at_s: float, append_ms: Sequence[int]) -> list[float]:
    """Publish time minus each record's append time (epoch ms), in seconds; never below 0 (the
    broker's clock and ours may differ by a little)."""
    published_ms = published_at_s * 1000
    return [max(0.0, (published_ms - ms) / 1000) for ms in append_ms]


def lateness_s(append_ms: int, occurred_s: float) -> float:
    """How long after its business time an event was appended, in seconds; an event time in the
    future counts as 0."""
    return max(0.0, append_ms / 1000 - occurred_s)


def quantiles(durations_s: Sequence[float]) -> Quantiles:
    """Nearest-rank p50, p99 and max of `durations_s` (seconds) in milliseconds."""
    if not durations_s:
        return Quantiles()
    ordered = sorted(durations_s)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))] * 1000, 1)

    return Quantiles(rank(0.50), rank(0.99), round(ordered[-1] * 1000, 1))


def next_interval(base_s: float, last_copy_s: float) -> float:
    """The wait before the next snapshot: the configured interval, or BACKOFF times the last
    checkpoint-and-copy time when that is longer, so copying never takes most of the sink's time."""
    return max(base_s, BACKOFF * last_copy_s)
