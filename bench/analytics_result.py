"""The analytics benchmark's figures: percentiles, the JSON result line, summary lines. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

RESULT_KEYS = (
    "bench", "quick", "events", "rows", "rows_per_s", "events_per_s", "lag_p50_ms", "lag_p99_ms", "lag_max_ms",
    "lag_events", "lag_seen", "rate_target", "rate_achieved", "lag_published", "publisher_behind_s",
    "snapshot_interval_s", "baselines", "contention", "kafka", "cpus", "commit",
)
BASELINE_KEYS = ("raw_consume_per_s", "raw_consume_aiokafka_per_s", "decode_records_per_s", "decode_rows_per_s",
                 "frames_rows_per_s", "insert_rows_per_s")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between ranks, as numpy's default; None if empty."""
    if not values:
        return None
    if not 0 <= q <= 1:
        raise ValueError(f"q must be within 0..1, got {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def per_s(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


@dataclass
class Timed:
    """Wall seconds and the CPU seconds the measuring process spent meanwhile."""

    wall_s: float = 0.0
    cpu_s: float = 0.0


@dataclass(frozen=True)
class Baselines:
    """Each stage of the sink alone on the same records, in the same run, in the bench's process."""

    records: int
    rows: int
    raw_consume: Timed  # kafka-python poll loop, no decoding (the sink's consumer until 2026-11)
    decode: Timed  # Batch.add_events: decode + rows_for per record, or analytics.columnar for internal topics
    frames: Timed  # Batch.frames(): row dicts to polars frames, joined to the columnar ones, deduplicated
    insert: Timed  # Projection.write of the frames, batch by batch
    snapshot: Timed  # one publish_snapshot (checkpoint + file copy) of the filled file
    raw_consume_aiokafka: Timed = field(default_factory=Timed)  # the sink's consumer: aiokafka getmany loop

    def figures(self) -> dict[str, float]:
        stages = self.decode.wall_s + self.frames.wall_s + self.insert.wall_s
        return {
            "raw_consume_per_s": per_s(self.records, self.raw_consume.wall_s),
            "raw_consume_aiokafka_per_s": per_s(self.records, self.raw_consume_aiokafka.wall_s),
            "decode_records_per_s": per_s(self.records, self.decode.wall_s),
            "decode_rows_per_s": per_s(self.rows, self.decode.wall_s),
            "frames_rows_per_s": per_s(self.rows, self.frames.wall_s),
            "insert_rows_per_s": per_s(self.rows, self.insert.wall_s),
            "snapshot_s": round(self.snapshot.wall_s, 3),
            "stages_rows_per_s": per_s(self.rows, stages),
        }

    def cpu_us_per_record(self) -> dict[str, float]:
        """CPU microseconds per consumed record of each stage alone: where the sink's time can go."""
        n = max(self.records, 1)
        stages = {"consume": self.raw_consume, "consume_aiokafka": self.raw_consume_aiokafka,
                  "decode+rows": self.decode, "frames": self.frames,
                  "insert": self.insert}
        return {name: round(1e6 * t.cpu_s / n, 1) for name, t in stages.items()}


@dataclass(frozen=True)
class Throughput:
    """The sink draining pre-filled topics, timed from its /health answering to its last row committed."""

    records: int
    rows: int
    startup_s: float  # process spawn to /health answering (imports, topic check, DuckDB schema)
    drain_s: float  # /health answering to every row counted in omnistream_sink_rows_inserted_total
    sink_cpu_s: float | None = None


@dataclass(frozen=True)
class Lag:
    """Events published at a fixed rate with occurred_at = send time; lag = first seen in the snapshot - occurred_at.

    With occurred_at stamped at send, this is the sink's projection lag (append time on the topic to
    queryable) plus the producer's linger (5 ms) and the reader's poll.
    """

    rate_target: float
    duration_s: float
    sent: int  # every event published (voids, cancellations and shipments make no rows)
    tracked: int  # those that become rows, so must show up in the snapshot
    publish_s: float
    lags_ms: list[float] = field(default_factory=list)
    behind_s: float = 0.0  # the publisher was starved this long: the rate was not offered throughout

    @property
    def seen(self) -> int:
        return len(self.lags_ms)


def result_line(t: Throughput, lag: Lag, base: Baselines, context: dict[str, object]) -> dict[str, object]:
    """The last stdout line: RESULT_KEYS first (context fills kafka, cpus, commit, quick...), then details."""
    p50, p99 = percentile(lag.lags_ms, 0.5), percentile(lag.lags_ms, 0.99)
    line: dict[str, object] = {
        "bench": "analytics",
        "quick": context.get("quick"),
        "events": t.records,
        "rows": t.rows,
        "rows_per_s": per_s(t.rows, t.drain_s),
        "events_per_s": per_s(t.records, t.drain_s),
        "lag_p50_ms": _ms(p50),
        "lag_p99_ms": _ms(p99),
        "lag_max_ms": _ms(max(lag.lags_ms) if lag.lags_ms else None),
        "lag_events": lag.tracked,
        "lag_seen": lag.seen,
        "rate_target": lag.rate_target,
        "rate_achieved": per_s(lag.sent, lag.publish_s),
        "lag_published": lag.sent,
        "publisher_behind_s": round(lag.behind_s, 2),
        "snapshot_interval_s": context.get("snapshot_interval_s"),
        "baselines": base.figures(),
        "contention": context.get("contention"),
        "kafka": context.get("kafka"),
        "cpus": context.get("cpus"),
        "commit": context.get("commit"),
        "startup_s": round(t.startup_s, 2),
        "drain_s": round(t.drain_s, 2),
        "rows_per_s_from_spawn": per_s(t.rows, t.startup_s + t.drain_s),
        "stage_cpu_us_per_record": base.cpu_us_per_record(),
    }
    if t.sink_cpu_s is not None:
        line["sink_cpu_us_per_record"] = round(1e6 * t.sink_cpu_s / max(t.records, 1), 1)
        line["rows_per_sink_cpu_s"] = per_s(t.rows, t.sink_cpu_s)
    line.update({k: v for k, v in context.items() if k not in line})
    return line


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def summary(line: dict[str, object]) -> list[str]:
    """Human-readable lines printed before the JSON one."""
    b = line["baselines"]
    assert isinstance(b, dict)
    return [
        f"throughput: {line['events']:,} records -> {line['rows']:,} rows in {line['drain_s']} s after "
        f"{line['startup_s']} s start-up: {line['rows_per_s']:,} rows/s, {line['events_per_s']:,} records/s",
        f"baselines: raw consume {b['raw_consume_per_s']:,} records/s (aiokafka, the sink's: "
        f"{b['raw_consume_aiokafka_per_s']:,}); decode+rows {b['decode_rows_per_s']:,} rows/s; "
        f"frames {b['frames_rows_per_s']:,} rows/s; insert {b['insert_rows_per_s']:,} rows/s; "
        f"stages in series {b['stages_rows_per_s']:,} rows/s; snapshot {b['snapshot_s']} s",
        f"CPU us per record, each stage alone: {line['stage_cpu_us_per_record']}; the sink: "
        f"{line.get('sink_cpu_us_per_record')} ({line.get('rows_per_sink_cpu_s')} rows per CPU second)",
        f"lag at {line['rate_achieved']}/s (target {line['rate_target']}/s), snapshot every "
        f"{line['snapshot_interval_s']} s: p50 {line['lag_p50_ms']} ms, p99 {line['lag_p99_ms']} ms, "
        f"max {line['lag_max_ms']} ms; seen {line['lag_seen']} of {line['lag_events']}",
    ]
