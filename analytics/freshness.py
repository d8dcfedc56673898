"""How fresh the analyst snapshot is, and how often to publish it: pure arithmetic, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

# The sink may spend at most 1/BACKOFF of its time checkpointing and copying the snapshot.
BACKOFF = 5.0


@dataclass(frozen=True)
class LagStats:
    """Event time to queryable, over the records that one snapshot made queryable."""

    records: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return {"records": self.records, "lag_p50_ms": self.p50_ms, "lag_p99_ms": self.p99_ms,
                "lag_max_ms": self.max_ms}


def lags_s(published_at_s: float, occurred_s: list[float]) -> list[float]:
    """Publish time minus each event time, in seconds; an event time in the future counts as 0."""
    return [max(0.0, published_at_s - t) for t in occurred_s]


def lag_stats(records: int, lags: list[float]) -> LagStats:
    """Nearest-rank percentiles of `lags` (seconds) in milliseconds; None when there are none."""
    if not lags:
        return LagStats(records, None, None, None)
    ordered = sorted(lags)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))] * 1000, 1)

    return LagStats(records, rank(0.50), rank(0.99), round(ordered[-1] * 1000, 1))


def next_interval(base_s: float, last_copy_s: float) -> float:
    """The wait before the next snapshot: the configured interval, or BACKOFF times the last
    checkpoint-and-copy time when that is longer, so copying never takes most of the sink's time."""
    return max(base_s, BACKOFF * last_copy_s)
