"""The floor: a bare aiokafka consume-and-produce loop over the same records, same broker.

No decoding, no state: what one Python process gets out of the broker and client
libraries when it reads a record and writes one back, committing like a worker does.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from tqdm import tqdm

from settings import Settings
from streams.admin import replication

PARTITIONS = 4
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class FloorResult:
    records: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


def topic_names(prefix: str) -> tuple[str, str]:
    return f"{prefix}floor.in", f"{prefix}floor.out"


def create_topics(settings: Settings, names: tuple[str, ...]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap.split(","), **settings.security.kafka_python_kwargs())
    try:
        copies = replication(settings, admin)
        admin.create_topics([NewTopic(name, PARTITIONS, copies.factor,
                                      topic_configs={"min.insync.replicas": str(copies.min_insync)}) for name in names])
    finally:
        admin.close()


def prefill(settings: Settings, topic: str, records: list[tuple[bytes, bytes]], progress: bool) -> None:
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap.split(","), acks="all", linger_ms=5,
        **settings.security.kafka_python_kwargs(),
    )
    try:
        for key, value in tqdm(records, desc="floor prefill", unit="rec", file=sys.stderr, disable=not progress):
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close()


async def consume_and_produce(settings: Settings, source: str, sink: str, n: int, group: str,
                              progress: bool) -> FloorResult:
    """Read `n` records from `source`, send each to `sink`; time first read to last flush."""
    security = settings.security.aiokafka_kwargs()
    consumer = AIOKafkaConsumer(
        source, bootstrap_servers=settings.bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, **security,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", linger_ms=int(settings.producer_linger_s * 1000),
        **security,
    )
    await consumer.start()
    await producer.start()
    bar = tqdm(total=n, desc="floor loop", unit="rec", file=sys.stderr, disable=not progress, mininterval=0.5)
    try:
        return await _loop(settings, consumer, producer, sink, n, bar)
    finally:
        bar.close()
        await consumer.stop()
        await producer.stop()


async def _loop(settings: Settings, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, sink: str, n: int,
                bar: tqdm) -> FloorResult:
    seen = 0
    started: float | None = None
    last_commit = time.monotonic()
    deadline = time.monotonic() + TIMEOUT_S
    while seen < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"floor loop read {seen} of {n} records in {TIMEOUT_S}s")
        batches = await consumer.getmany(timeout_ms=500)
        for records in batches.values():
            started = started or time.monotonic()
            for record in records:
                await producer.send(sink, key=record.key, value=record.value)
            seen += len(records)
            bar.update(len(records))
        if time.monotonic() - last_commit >= settings.commit_interval_s:
            await producer.flush()  # as Faust does: outputs first, then the source offsets
            await consumer.commit()
            last_commit = time.monotonic()
    await producer.flush()
    finished = time.monotonic()
    await consumer.commit()
    return FloorResult(records=seen, seconds=finished - (started or finished))


def run_floor(settings: Settings, prefix: str, records: list[tuple[bytes, bytes]], progress: bool) -> FloorResult:
    source, sink = topic_names(prefix)
    create_topics(settings, (source, sink))
    prefill(settings, source, records, progress)
    return asyncio.run(consume_and_produce(settings, source, sink, len(records), f"{prefix}floor", progress))
