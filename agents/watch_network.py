"""Keeps this worker's sourcing snapshot: all of `inventory.availabilities` and the network's versions.

Every worker reads both topics whole, from the beginning (no consumer group: nothing to
share out), so it can source any order it owns. The order saga waits until the snapshot has
caught up with the end of both topics as they were when the worker started.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import TopicPartition

from ops.metrics import EVENTS
from runtime.app import app, settings
from runtime.whole import read_whole
from streams.codec import DecodeError, decode
from streams.fulfilment import CostsDefined, NodeDefined, ProfileDefined
from streams.inventory import AvailabilityChanged
from streams.topics import FULFILMENT_NETWORK, INVENTORY_AVAILABILITY, TopicSpec
from tables.snapshot import live_snapshot

log = logging.getLogger("omnistream.snapshot")
SPECS: tuple[TopicSpec, ...] = (FULFILMENT_NETWORK, INVENTORY_AVAILABILITY)


@app.task
async def watch_network() -> None:
    await read_whole("snapshot", SPECS, _apply, _caught_up)


def _caught_up() -> None:
    live_snapshot.caught_up = True
    log.info("sourcing snapshot caught up: %d nodes, %d capacity slots", len(live_snapshot.network.nodes),
             live_snapshot.capacity_positions)


def _apply(spec: TopicSpec, tp: TopicPartition, records: list[Any]) -> list[tuple[Any, str]]:
    """Apply a batch to the snapshot; the records that could not be read, with why."""
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
