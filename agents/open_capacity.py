"""Opens each node's pick/pack capacity slots ahead of time, as receipts into its capacity SKUs.

The leader, every `OMNI_CAPACITY_OPEN_INTERVAL_S`, receives each open hour from
`OMNI_CAPACITY_LOOKBACK_H` hours ago to `OMNI_CAPACITY_HORIZON_H` hours ahead into the node's
capacity SKU for that method and slot (`domain/fulfilment/capacity.py`). The receipt's id
names the slot and the node version, so a slot is opened once however often this runs (the
authority remembers movement ids); a new node version changes the slots opened after it, not
the ones already open.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from domain.fulfilment import capacity
from ops.metrics import EVENTS
from runtime.app import app, clock, settings
from runtime.publish import publish
from streams.fulfilment import NodeDefined
from streams.inventory import StockMovement
from streams.topics import INVENTORY_MOVEMENTS
from tables.snapshot import live_snapshot

log = logging.getLogger("omnistream.capacity")
_opened: set[tuple[str, str]] = set()  # (capacity sku, node) sent by this worker
_looked_until: dict[tuple[str, int], datetime] = {}  # (node, version) -> slots looked at up to here


@app.timer(interval=settings.capacity_open_interval_s, on_leader=True)
async def open_capacity() -> None:
    if not live_snapshot.caught_up:
        return
    now = clock.now()
    network = live_snapshot.network.as_of(now)
    opened = 0
    for node in network.nodes.values():
        since = now - timedelta(hours=settings.capacity_lookback_h)
        for movement in slots_to_open(node, since, now + timedelta(hours=settings.capacity_horizon_h), now):
            await publish(INVENTORY_MOVEMENTS, movement)
            _opened.add((movement.sku, movement.node))
            opened += 1
    if opened:
        EVENTS.labels("capacity.opened").inc(opened)
        log.info("opened %d capacity slots up to %s", opened, (now + timedelta(hours=settings.capacity_horizon_h))
                 .isoformat(timespec="minutes"))


def slots_to_open(node: NodeDefined, since: datetime, until: datetime, now: datetime) -> list[StockMovement]:
    """Receipts for the node's open slots in [since, until) not yet opened (each tick looks only at
    the hours that came into the horizon since the last one)."""
    out = []
    key = (node.node_id, node.version)
    start = max(capacity.slot_of(since), _looked_until.get(key, capacity.slot_of(since)))
    _looked_until[key] = until
    for slot in capacity.open_slots(node, start, until):
        for method in node.methods:
            room = capacity.capacity_for(node, method)
            if room is None or room.per_hour <= 0 or live_snapshot.has_capacity_slot(node.node_id, method, slot):
                continue
            sku = capacity.capacity_sku(node.node_id, method, slot)
            if (sku, node.node_id) in _opened:
                continue
            cause = f"cap-{sku}-{node.node_id}-v{node.version}"[:100]
            out.append(StockMovement(
                event_id=f"{cause}:0", occurred_at=now, source_node=node.node_id, sku=sku, node=node.node_id,
                kind="receipt", quantity=room.per_hour, cause_event_id=cause, cause_type="capacity.opened",
            ))
    return out
