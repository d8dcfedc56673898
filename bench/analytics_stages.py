"""The sink's stages one at a time on the same records: consume, decode to rows, frames, insert."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from analytics.rows import rows_for
from analytics.sink import FACT_SOURCES, Batch
from analytics.store import Projection
from bench.analytics_load import SinkRecord
from settings import Settings
from streams.codec import decode

TIMEOUT_S = 300.0


def raw_consume(settings: Settings, expected: int) -> float:
    """Seconds a bare kafka-python consumer, assigned like the sink, takes to read `expected` records."""
    started = time.perf_counter()
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap.split(","), group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", max_poll_records=settings.sink_batch_max,
        **settings.security.kafka_python_kwargs(),
    )
    try:
        names = [spec.full_name(settings.topic_prefix) for spec in FACT_SOURCES]
        consumer.assign([TopicPartition(t, p) for t in names for p in sorted(consumer.partitions_for_topic(t) or ())])
        seen = 0
        deadline = time.monotonic() + TIMEOUT_S
        while seen < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw consume read {seen} of {expected} records in {TIMEOUT_S}s")
            for records in consumer.poll(timeout_ms=500, max_records=settings.sink_batch_max).values():
                seen += len(records)
        return time.perf_counter() - started
    finally:
        consumer.close()


def decode_rows(records: list[SinkRecord], settings: Settings) -> tuple[list[Batch], float]:
    """The sink's `add` without Kafka or metrics: batches of `sink_batch_max` records as rows; seconds."""
    batches: list[Batch] = []
    size, limit = settings.sink_batch_max, settings.max_event_bytes
    started = time.perf_counter()
    for first in range(0, len(records), size):
        batch = Batch()
        for offset, record in enumerate(records[first:first + size], start=first):
            batch.records += 1
            batch.offsets[(record.spec.name, 0)] = offset + 1
            for table, rows in rows_for(decode(record.spec, record.raw, limit), datetime.now(UTC)).items():
                batch.rows[table].extend(rows)
        batches.append(batch)
    return batches, time.perf_counter() - started


def frames(batches: list[Batch]) -> tuple[list[dict], float]:  # type: ignore[type-arg]
    started = time.perf_counter()
    built = [batch.frames() for batch in batches]
    return built, time.perf_counter() - started


def insert(batches: list[Batch], built: list[dict], root: Path) -> tuple[int, float, float]:  # type: ignore[type-arg]
    """(rows inserted, seconds of Projection.write over every batch, seconds of one snapshot) in a fresh file."""
    projection = Projection(root / "omnistream.duckdb", root / "analytics.duckdb")
    try:
        inserted = 0
        started = time.perf_counter()
        for batch, frame in zip(batches, built, strict=True):
            inserted += sum(projection.write(frame, batch.offsets).values())
        insert_s = time.perf_counter() - started
        started = time.perf_counter()
        projection.publish_snapshot()
        return inserted, insert_s, time.perf_counter() - started
    finally:
        projection.close()
