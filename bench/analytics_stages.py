"""The sink's stages one at a time on the same records: consume, decode to rows, frames, insert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

import polars as pl
from kafka import KafkaConsumer, TopicPartition

from analytics.batch import Batch
from analytics.sink import FACT_SOURCES, consumer, partitions
from analytics.store import Projection
from bench.analytics_load import SinkRecord
from bench.analytics_result import Timed
from settings import Settings

TIMEOUT_S = 300.0
Frames = dict[str, pl.DataFrame]


@contextmanager
def timed() -> Iterator[Timed]:
    """Wall and this process's CPU seconds of the block (CPU does not grow while others hold the cores)."""
    t = Timed()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield t
    finally:
        t.wall_s, t.cpu_s = time.perf_counter() - wall, time.process_time() - cpu


def raw_consume(settings: Settings, expected: int) -> Timed:
    """A bare kafka-python consumer, assigned like the sink, reading `expected` records: no decoding.
    The sink read with it until 2026-11; kept as the yardstick of the older runs."""
    with timed() as t:
        consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap.split(","), group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=settings.sink_batch_max,
            **settings.security.kafka_python_kwargs(),
        )
        try:
            _read(consumer, settings, expected)
        finally:
            consumer.close()
    return t


def _read(consumer: KafkaConsumer, settings: Settings, expected: int) -> None:
    names = [spec.full_name(settings.topic_prefix) for spec in FACT_SOURCES]
    consumer.assign([TopicPartition(n, p) for n in names for p in sorted(consumer.partitions_for_topic(n) or ())])
    seen = 0
    deadline = time.monotonic() + TIMEOUT_S
    while seen < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"raw consume read {seen} of {expected} records in {TIMEOUT_S}s")
        for records in consumer.poll(timeout_ms=500, max_records=settings.sink_batch_max).values():
            seen += len(records)


def raw_consume_aiokafka(settings: Settings, expected: int) -> Timed:
    """The sink's own aiokafka consumer, assigned like the sink, reading `expected` records: no decoding."""
    with timed() as t:
        asyncio.run(_read_aiokafka(settings, expected))
    return t


async def _read_aiokafka(settings: Settings, expected: int) -> None:
    reader = consumer(settings)
    await reader.start()
    try:
        names = [spec.full_name(settings.topic_prefix) for spec in FACT_SOURCES]
        reader.assign(await partitions(reader, names))
        seen = 0
        deadline = time.monotonic() + TIMEOUT_S
        while seen < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw aiokafka consume read {seen} of {expected} records in {TIMEOUT_S}s")
            polled = await reader.getmany(timeout_ms=500, max_records=settings.sink_batch_max)
            seen += sum(len(records) for records in polled.values())
    finally:
        await reader.stop()


def decode_rows(records: list[SinkRecord], settings: Settings) -> tuple[list[Batch], Timed]:
    """The sink's `Batch.add_events` without Kafka or metrics: batches of `sink_batch_max` records, each
    run of one topic's records handed over at once, as a poll hands them over; ingest topics decoded
    per record into row dicts, internal ones (`analytics.columnar`) into typed frames."""
    batches: list[Batch] = []
    size, limit = settings.sink_batch_max, settings.max_event_bytes
    with timed() as t:
        for first in range(0, len(records), size):
            chunk = list(enumerate(records[first:first + size], start=first))
            batch = Batch(records=len(chunk))
            by_topic = sorted(chunk, key=lambda numbered: numbered[1].spec.name)  # a poll: per partition
            for spec, run in groupby(by_topic, key=lambda numbered: numbered[1].spec):
                numbered = list(run)
                batch.add_events(spec, [record.raw for _, record in numbered], datetime.now(UTC), limit)
                batch.offsets[(spec.name, 0)] = numbered[-1][0] + 1
            batches.append(batch)
    return batches, t


def frames(batches: list[Batch]) -> tuple[list[Frames], Timed]:
    """`Batch.frames()`: row dicts to typed frames, joined to the columnar frames, deduplicated on each
    table's key."""
    with timed() as t:
        built = [batch.frames() for batch in batches]
    return built, t


def insert(batches: list[Batch], built: list[Frames], root: Path) -> tuple[int, Timed, Timed]:
    """(rows inserted, Projection.write over every batch, one publish_snapshot) into a fresh file."""
    projection = Projection(root / "omnistream.duckdb", root / "analytics.duckdb")
    try:
        inserted = 0
        with timed() as write:
            for batch, frame in zip(batches, built, strict=True):
                inserted += sum(projection.write(frame, batch.offsets).values())
        with timed() as snapshot:
            projection.publish_snapshot()
        return inserted, write, snapshot
    finally:
        projection.close()
