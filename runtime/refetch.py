"""Reads a range of offsets of one partition straight from Kafka (records a consumer skipped)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.types import TP

from runtime.app import settings


@dataclass(frozen=True)
class Refetched:
    """The parts of a Faust message that apply_movements and the dead-letter path use."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # milliseconds, as aiokafka gives it (Faust's messages carry seconds)

    @property
    def tp(self) -> TP:
        return TP(self.topic, self.partition)


async def fetch_range(topic: str, partition: int, offsets: range) -> list[Refetched]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap.split(","), enable_auto_commit=False, group_id=None,
        **settings.security.aiokafka_kwargs(),
    )
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offsets.start)
        found: list[Refetched] = []
        while not found or found[-1].offset < offsets.stop - 1:
            batch = await consumer.getmany(tp, timeout_ms=2000)
            records = batch.get(tp, [])
            if not records:
                break
            found += [
                Refetched(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                for r in records if r.offset in offsets
            ]
        return found
    finally:
        await consumer.stop()
