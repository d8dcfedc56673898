"""Keeps this worker's sourcing snapshot: all of `inventory.availabilities` and the network's versions.

Every worker reads both topics whole, from the beginning (no consumer group: nothing to
share out), so it can source any order it owns. The order saga waits until the snapshot has
caught up with the end of both topics as they were when the worker started.
"""

from __future__ import annotations

import logging
from typing import Any

from runtime.app import app
from runtime.whole import read_whole
from streams.fulfilment import CostsDefined, NodeDefined, ProfileDefined
from streams.inventory import AvailabilityChanged
from streams.topics import FULFILMENT_NETWORK, INVENTORY_AVAILABILITY, TopicSpec
from tables.snapshot import live_snapshot

log = logging.getLogger("omnistream.snapshot")
SPECS: tuple[TopicSpec, ...] = (FULFILMENT_NETWORK, INVENTORY_AVAILABILITY)


@app.task
async def watch_network() -> None:
    await read_whole("snapshot", SPECS, _apply, _caught_up, _read)


def _caught_up() -> None:
    live_snapshot.caught_up = True
    log.info("sourcing snapshot caught up: %d nodes, %d capacity slots", len(live_snapshot.network.nodes),
             live_snapshot.capacity_positions)


def _apply(spec: TopicSpec, event: Any, offset: int) -> None:
    if isinstance(event, AvailabilityChanged):
        live_snapshot.availability(event)
    elif isinstance(event, NodeDefined | CostsDefined | ProfileDefined):
        live_snapshot.network_version(event)


def _read(spec: TopicSpec, partition: int, offset: int) -> None:
    live_snapshot.read(spec.name, partition, offset)
