"""Prometheus metrics of the DuckDB sink."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ops.cluster_watch import kafka_gauges

REGISTRY = CollectorRegistry()
KAFKA = kafka_gauges(REGISTRY)  # omnistream_kafka_*: the cluster as the sink sees it (ops/cluster_watch.py)

BATCHES = Counter("omnistream_sink_batches_total", "DuckDB transactions committed", registry=REGISTRY)
RECORDS = Counter("omnistream_sink_records_total", "Kafka records consumed, by topic", ["topic"], registry=REGISTRY)
ROWS = Counter("omnistream_sink_rows_inserted_total", "New rows inserted, by table", ["table"], registry=REGISTRY)
SKIPPED = Counter(
    "omnistream_sink_invalid_records_total",
    "Records the sink could not decode (the worker dead-letters them), by topic", ["topic"], registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "omnistream_sink_batch_records", "Records per DuckDB transaction",
    buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 50000), registry=REGISTRY,
)
LAG_RECORDS = Gauge(
    "omnistream_sink_lag_records", "End offset minus next offset to read", ["topic", "partition"], registry=REGISTRY
)
COMMITTED_LAG = Histogram(
    "omnistream_sink_projection_lag_seconds", "Kafka append time to committed in DuckDB, per record",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=REGISTRY,
)
QUERYABLE_LAG = Histogram(
    "omnistream_projection_lag_seconds",
    "Kafka append time on the source topic to queryable in a published analyst snapshot, per record",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400, 7 * 86400), registry=REGISTRY,
)
EVENT_LATENESS = Histogram(
    "omnistream_event_lateness_seconds",
    "Kafka append time minus the event's business time (occurred_at), per decoded event; not pipeline lag",
    buckets=(1, 10, 60, 300, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 60 * 86400), registry=REGISTRY,
)
COMMIT_GAP = Histogram(
    "omnistream_sink_commit_gap_seconds", "Time between consecutive DuckDB commits (idle time included)",
    buckets=(0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60), registry=REGISTRY,
)
SNAPSHOT_SECONDS = Histogram(
    "omnistream_sink_snapshot_seconds", "Checkpoint and copy time of one analyst snapshot",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY,
)
SNAPSHOT_INTERVAL = Gauge(
    "omnistream_sink_snapshot_interval_seconds",
    "Interval between snapshots in force: the setting, or 5x the last copy time if longer", registry=REGISTRY,
)
SNAPSHOTS = Counter("omnistream_sink_snapshots_total", "Analyst snapshots published", registry=REGISTRY)
SNAPSHOT_AGE = Gauge("omnistream_sink_snapshot_age_seconds", "Seconds since the last snapshot", registry=REGISTRY)


def observe_all(histogram: Histogram, values: Sequence[float]) -> None:
    """`histogram.observe(v)` for every value, one increment per bucket instead of per value.

    The sink observes up to three values per record (two lags, lateness), and at ~2 us each they
    were a tenth of its time; prometheus_client has no bulk observe, so this adds to the
    histogram's own bucket and sum counters, exactly as `observe` does (a value goes to the
    first bucket whose upper bound is >= it).
    """
    if not values:
        return
    bounds = histogram._upper_bounds
    for bucket, count in Tally(bisect_left(bounds, value) for value in values).items():
        histogram._buckets[bucket].inc(count)
    histogram._sum.inc(sum(values))
