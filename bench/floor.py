"""The floor: a bare aiokafka consume-and-produce loop over the same records, same broker.

No decoding, no state: what one Python process gets out of the broker and client
libraries when it reads a record and writes one back (acks=all and idempotent, as the worker's
producers are), committing like a worker does.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, replace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from tqdm import tqdm

from bench.holds import ms, percentile
from settings import Settings
from streams.admin import replication

PARTITIONS = 4
TIMEOUT_S = 300.0
ACK_PROBES = 200  # single records after the loop, one in flight: what one acknowledged write costs


@dataclass(frozen=True)
class FloorResult:
    records: int
    seconds: float
    acks_s: tuple[float, ...] = ()  # send until acknowledged, one record at a time (linger 0)

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def ack_fields(self) -> dict[str, float | None]:
        acks = list(self.acks_s)
        return {"produce_ack_p50_ms": ms(percentile(acks, 50)), "produce_ack_p99_ms": ms(percentile(acks, 99))}

    def describe(self) -> str:
        text = f"floor: {self.records} records in {self.seconds:.2f} s = {self.per_s:.0f}/s"
        if self.acks_s:
            acks = self.ack_fields()
            text += (f"; one record at a time, acknowledged (acks=all) in p50 {acks['produce_ack_p50_ms']} ms, "
                     f"p99 {acks['produce_ack_p99_ms']} ms")
        return text


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
        bootstrap_servers=settings.bootstrap.split(","), acks="all", enable_idempotence=True, linger_ms=5,
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
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
        linger_ms=int(settings.producer_linger_s * 1000), **security,
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


async def acknowledged_writes(settings: Settings, topic: str, count: int) -> tuple[float, ...]:
    """Seconds from send to acknowledgement of `count` small records sent one after the other: on a
    cluster with acks=all, the leader answers once the in-sync followers have fetched the record."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=0, **settings.security.aiokafka_kwargs())
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b"warm-up", value=b"x")  # metadata and connections
        seconds = []
        for i in range(count):
            t0 = time.perf_counter()
            await producer.send_and_wait(topic, key=str(i).encode(), value=b"x" * 100)
            seconds.append(time.perf_counter() - t0)
        return tuple(seconds)
    finally:
        await producer.stop()


def run_floor(settings: Settings, prefix: str, records: list[tuple[bytes, bytes]], progress: bool,
              ack_probes: int = 0) -> FloorResult:
    """The loop over `records`; then, with `ack_probes`, that many single acknowledged writes."""
    source, sink = topic_names(prefix)
    create_topics(settings, (source, sink))
    prefill(settings, source, records, progress)
    result = asyncio.run(consume_and_produce(settings, source, sink, len(records), f"{prefix}floor", progress))
    if ack_probes:
        result = replace(result, acks_s=asyncio.run(acknowledged_writes(settings, sink, ack_probes)))
    return result
