"""Keeps this worker's sourcing snapshot: all of `inventory.availabilities` and the network's versions.

Every worker reads both topics whole, from the beginning (no consumer group: nothing to
share out), so it can source any order it owns. The order saga waits until the snapshot has
caught up with the end of both topics as they were when the worker started.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ops.metrics import EVENTS
from runtime.app import app, settings
from runtime.dead_letters import send_dead_letter
from streams.codec import DecodeError, decode
from streams.fulfilment import CostsDefined, NodeDefined, ProfileDefined
from streams.inventory import AvailabilityChanged
from streams.topics import FULFILMENT_NETWORK, INVENTORY_AVAILABILITY, TopicSpec
from tables.snapshot import live_snapshot

log = logging.getLogger("omnistream.snapshot")
SPECS: tuple[TopicSpec, ...] = (FULFILMENT_NETWORK, INVENTORY_AVAILABILITY)
BATCH = 5_000


@app.task
async def watch_network() -> None:
    s = settings
    consumer = AIOKafkaConsumer(
        bootstrap_servers=s.bootstrap.split(","), group_id=None, client_id=f"{s.app_id}-snapshot",
        enable_auto_commit=False, auto_offset_reset="earliest", **s.security.aiokafka_kwargs(),
    )
    await consumer.start()
    try:
        parts = await _partitions(consumer)
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        log.info("sourcing snapshot: reading %d partitions to their end", len(parts))
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
            for tp, records in batches.items():
                for record, reason in _apply(tp, records):
                    await send_dead_letter(FULFILMENT_NETWORK, record, reason, "watch_network")
            if not live_snapshot.caught_up and await _reached(consumer, ends):
                live_snapshot.caught_up = True
                log.info("sourcing snapshot caught up: %d nodes, %d capacity slots", len(live_snapshot.network.nodes),
                         live_snapshot.capacity_positions)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    parts = []
    for spec in SPECS:
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


def _apply(tp: TopicPartition, records: list[Any]) -> list[tuple[Any, str]]:
    """Apply a batch to the snapshot; the records that could not be read, with why."""
    spec = FULFILMENT_NETWORK if tp.topic.endswith(FULFILMENT_NETWORK.name) else INVENTORY_AVAILABILITY
    bad = []
    for record in records:
        if record.value is None:
            continue  # a tombstone
        try:
            event = decode(spec, record.value, settings.max_event_bytes)
        except DecodeError as err:
            # Every worker reads the whole topic, so each dead-letters it once (the letter names the worker).
            log.warning("snapshot skips %s[%d]@%d: %s", tp.topic, tp.partition, record.offset, err)
            bad.append((record, str(err)))
            continue
        if isinstance(event, AvailabilityChanged):
            live_snapshot.availability(event)
        elif isinstance(event, NodeDefined | CostsDefined | ProfileDefined):
            live_snapshot.network_version(event)
        EVENTS.labels(spec.name).inc()
    if records:
        live_snapshot.read(spec.name, tp.partition, records[-1].offset)
    return bad
