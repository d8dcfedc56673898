"""Read topics whole, from the beginning, in every worker: the snapshots each worker keeps in memory.

No consumer group (nothing is shared out: every worker needs all of it). `apply` gets each
record's event with its offset (tombstones skipped); a record that does not decode goes to the
topic's dead-letter topic (each worker dead-letters it once: the letter names the worker).
`read` (optional) is told the last offset of each partition's batch.
`caught_up` is called once the reader reached the end the topics had when it started.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ops.metrics import EVENTS
from runtime.app import settings
from runtime.dead_letters import send_dead_letter
from streams.codec import DecodeError, decode
from streams.topics import TopicSpec, spec_for

log = logging.getLogger("omnistream.whole")
BATCH = 5_000
Apply = Callable[[TopicSpec, Any, int], None]
Read = Callable[[TopicSpec, int, int], None]


async def read_whole(name: str, specs: tuple[TopicSpec, ...], apply: Apply, caught_up: Callable[[], None],
                     read: Read | None = None) -> None:
    s = settings
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.bootstrap.split(","), group_id=None, client_id=f"{s.app_id}-{name}",
        enable_auto_commit=False, auto_offset_reset="earliest", **s.security.aiokafka_kwargs(),
    )
    await consumer.start()
    try:
        parts = await _partitions(consumer, specs)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        log.info("%s: reading %d partitions to their end", name, len(parts))
        done = False
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
            for tp, records in batches.items():
                spec = spec_for(tp.topic, s.topic_prefix)
                await _apply(name, spec, tp, records, apply)
                if read is not None and records:
                    read(spec, tp.partition, records[-1].offset)
            if not done and await _reached(consumer, ends):
                done = True
                caught_up()
    finally:
        await consumer.stop()


async def _apply(name: str, spec: TopicSpec, tp: TopicPartition, records: list[Any], apply: Apply) -> None:
    for record in records:
        if record.value is None:
            continue  # a tombstone
        try:
            event = decode(spec, record.value, settings.max_event_bytes)
        except DecodeError as err:
            log.warning("%s skips %s[%d]@%d: %s", name, tp.topic, tp.partition, record.offset, err)
            await send_dead_letter(spec, record, str(err), name)
            continue
        apply(spec, event, record.offset)
        EVENTS.labels(spec.name).inc()


async def _partitions(consumer: AIOKafkaConsumer, specs: tuple[TopicSpec, ...]) -> list[TopicPartition]:
    parts = []
    for spec in specs:
        topic = spec.full_name(settings.topic_prefix)
        found = None
        for _ in range(100):  # the topic may still be being created on a fresh cluster
            found = consumer.partitions_for_topic(topic)
            if found:
                break
            await consumer._client.force_metadata_update()  # noqa: SLF001
            await asyncio.sleep(0.2)
        if not found:
            raise RuntimeError(f"topic {topic} does not exist: start the worker once to create it, or check "
                               "OMNI_TOPIC_PREFIX")
        parts += [TopicPartition(topic, p) for p in sorted(found)]
    return parts


async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True
