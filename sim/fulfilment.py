"""The simulated network as fulfilment data: each store and warehouse as a versioned node definition.

Stores open 09:00-21:00 (Sunday 12:00-18:00), ship, deliver same day and hand over pick-ups,
with a few staff picking; warehouses run around the clock with far more capacity but no
pick-up desk. Figures and their sources: docs/fulfilment.md.
"""

from __future__ import annotations

from datetime import datetime

from sim.network import Network, Node
from streams.fulfilment import NodeDefined, OpeningHours, SlotCapacity

STORE_HOURS = [OpeningHours(weekday=d, opens="09:00", closes="21:00") for d in range(6)] + [
    OpeningHours(weekday=6, opens="12:00", closes="18:00")
]
ALWAYS = [OpeningHours(weekday=d, opens="00:00", closes="24:00") for d in range(7)]
# A store with two people picking at ~25 items/h and ~2 items an order: ~25 orders an hour in all.
STORE_CAPACITY = [
    SlotCapacity(method="ship", per_hour=15), SlotCapacity(method="same_day", per_hour=6),
    SlotCapacity(method="pickup", per_hour=20),
]
WAREHOUSE_CAPACITY = [SlotCapacity(method="ship", per_hour=400), SlotCapacity(method="same_day", per_hour=40)]


def node_definitions(network: Network, effective_from: datetime, version: int = 1) -> list[NodeDefined]:
    return [_define(node, effective_from, version) for node in network.nodes]


def _define(node: Node, effective_from: datetime, version: int) -> NodeDefined:
    store = node.kind == "store"
    return NodeDefined(
        event_id=f"node-{node.node_id}-v{version}", occurred_at=effective_from, source_node="hq",
        node_id=node.node_id, version=version, effective_from=effective_from, kind=node.kind,
        name=f"{'Store' if store else 'Warehouse'} {node.node_id}", lat=node.lat, lon=node.lon,
        hours=STORE_HOURS if store else ALWAYS,
        methods=["ship", "same_day", "pickup"] if store else ["ship", "same_day"],
        capacity=STORE_CAPACITY if store else WAREHOUSE_CAPACITY,
        prep_minutes=60 if store else 120, protected_units=1 if store else 0,
    )
