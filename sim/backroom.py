"""Back offices: opening stock, supplier deliveries, cycle counts, damage and transfers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta

from sim.network import Node
from sim.state import DayState, Emission
from streams.stock import (
    CountLine,
    ReceivedLine,
    StockCounted,
    StockDamaged,
    StockLine,
    StockReceived,
    TransferReceived,
    TransferShipped,
)
from streams.topics import INVENTORY_ADJUSTMENTS, INVENTORY_TRANSFERS

# Opening stock goes out in deliveries of this many lines: well inside max_bytes.
OPENING_LINES = 500
# Shelves start with this many days of expected demand.
COVER_DAYS = 3
MAX_LINE_QUANTITY = 100_000
DAMAGE_REASONS = ("dropped", "water damage", "packaging torn", "past best before")
SHRINK = (0, 0, 0, 0, -1, -1, -2, 1)


def opening_stock(day: DayState) -> Iterator[Emission]:
    """Supplier deliveries at 08:00 that fill every node, warehouses first."""
    for node in day.network.nodes:
        lines = [
            StockLine(sku=item.sku, quantity=_opening_quantity(day, node, item.popularity))
            for item in day.network.catalogue
        ]
        for start in range(0, len(lines), OPENING_LINES):
            yield _delivery(day, node.node_id, "opening-balance", lines[start : start + OPENING_LINES], opening=True)


def _opening_quantity(day: DayState, node: Node, popularity: float) -> int:
    config = day.config
    units_per_day = config.events * 1.2  # about 1.2 units leave a shelf per event
    if node.kind == "store":
        demand = units_per_day * 0.75 / config.stores
        return min(MAX_LINE_QUANTITY, 2 + math.ceil(popularity * demand * COVER_DAYS))
    demand = units_per_day / config.warehouses
    return min(MAX_LINE_QUANTITY, 10 + math.ceil(popularity * demand * COVER_DAYS))


def supplier_delivery(day: DayState) -> Emission:
    """A mid-day delivery, mostly to a warehouse: always possible, the fallback of the mix."""
    rng = day.rng
    to_store = rng.random() < 0.3
    node = rng.choice(day.network.stores if to_store else day.network.warehouses).node_id
    skus = dict.fromkeys(day.network.pick_item(rng).sku for _ in range(rng.randint(3, 20)))
    size = (6, 48) if to_store else (50, 500)
    lines = [StockLine(sku=sku, quantity=rng.randint(*size)) for sku in skus]
    return _delivery(day, node, f"sup-{rng.randint(1, 40):03d}", lines, opening=False)


def _delivery(day: DayState, node: str, supplier: str, lines: list[StockLine], opening: bool) -> Emission:
    event_id, at = day.stamp(timedelta(0) if opening else None)
    event = StockReceived(
        event_id=event_id,
        occurred_at=at,
        source_node=node,
        delivery_id=f"dl-{event_id}",
        supplier_id=supplier,
        lines=lines,
    )
    for line in lines:
        day.books.receive(line.sku, node, line.quantity)
    return INVENTORY_ADJUSTMENTS, INVENTORY_ADJUSTMENTS.key_for(event), event


def _back_room_skus(day: DayState, node: str, wanted: int) -> list[str]:
    """SKUs at `node` that only its own back office moves (see `Books`), drawn uniformly."""
    skus: list[str] = []
    for _ in range(wanted * 4):
        sku = day.rng.choice(day.network.catalogue).sku
        if len(skus) < wanted and sku not in skus and day.books.back_room_only(sku, node):
            skus.append(sku)
    return skus


def stock_counted(day: DayState) -> Emission | None:
    """A cycle count of slow movers: the count replaces on hand, usually with a little shrink."""
    node = day.rng.choice(day.network.nodes).node_id
    skus = _back_room_skus(day, node, day.rng.randint(1, 8))
    if not skus:
        return None
    counted = [max(0, day.books.on_hand.get((sku, node), 0) + day.rng.choice(SHRINK)) for sku in skus]
    event_id, at = day.stamp()
    event = StockCounted(
        event_id=event_id,
        occurred_at=at,
        source_node=node,
        count_id=f"ct-{event_id}",
        lines=[CountLine(sku=sku, counted=n) for sku, n in zip(skus, counted, strict=True)],
    )
    for sku, n in zip(skus, counted, strict=True):
        day.books.reserve_for_back_room(sku, node, n)
    return INVENTORY_ADJUSTMENTS, INVENTORY_ADJUSTMENTS.key_for(event), event


def stock_damaged(day: DayState) -> Emission | None:
    """Goods found damaged in the back room; never more than the books hold."""
    rng = day.rng
    node = rng.choice(day.network.nodes).node_id
    held = {sku: day.books.on_hand.get((sku, node), 0) for sku in _back_room_skus(day, node, rng.randint(1, 3))}
    lines = [StockLine(sku=sku, quantity=rng.randint(1, min(3, n))) for sku, n in held.items() if n > 0]
    if not lines:
        return None
    event_id, at = day.stamp()
    event = StockDamaged(
        event_id=event_id,
        occurred_at=at,
        source_node=node,
        report_id=f"dm-{event_id}",
        reason=rng.choice(DAMAGE_REASONS),
        lines=lines,
    )
    for line in lines:
        day.books.reserve_for_back_room(line.sku, node, held[line.sku] - line.quantity)
    return INVENTORY_ADJUSTMENTS, INVENTORY_ADJUSTMENTS.key_for(event), event


def transfer_shipped(day: DayState) -> Emission | None:
    """Replenishment, mostly warehouse to store; half of what the source holds at most."""
    rng = day.rng
    from_warehouse = rng.random() < 0.8
    source = rng.choice(day.network.warehouses if from_warehouse else day.network.stores).node_id
    target = rng.choice([s.node_id for s in day.network.stores if s.node_id != source] or [source])
    if target == source:
        return None
    top = 24 if from_warehouse else 6
    lines: dict[str, int] = {}
    for _ in range(rng.randint(2, 8)):
        sku = day.network.pick_item(rng).sku
        spare = day.books.available(sku, source) // 2
        if sku not in lines and spare >= 1 and (sku, target) not in day.books.locked:
            lines[sku] = rng.randint(1, min(top, spare))
    if not lines:
        return None
    event_id, at = day.stamp()
    event = TransferShipped(
        event_id=event_id,
        occurred_at=at,
        source_node=source,
        transfer_id=f"tr-{event_id}",
        from_node=source,
        to_node=target,
        eta=at + timedelta(minutes=rng.randint(45, 300)),
        lines=[StockLine(sku=sku, quantity=quantity) for sku, quantity in lines.items()],
    )
    for sku, quantity in lines.items():
        day.books.move(sku, source, -quantity)
        day.books.move(sku, target, 0)  # claims the pair now so no count reserves it before receipt
    day.ship(event)
    return INVENTORY_TRANSFERS, INVENTORY_TRANSFERS.key_for(event), event


def transfer_received(day: DayState, shipped: TransferShipped) -> Emission:
    """The transfer booked in at its destination; now and then a line arrives short."""
    rng = day.rng
    short = rng.random() < 0.15
    lines = [
        ReceivedLine(
            sku=line.sku,
            quantity_expected=line.quantity,
            quantity_received=line.quantity - (rng.randint(1, line.quantity) if short and n == 0 else 0),
        )
        for n, line in enumerate(shipped.lines)
    ]
    event_id, at = day.stamp()
    event = TransferReceived(
        event_id=event_id,
        occurred_at=at,
        source_node=shipped.to_node,
        transfer_id=shipped.transfer_id,
        from_node=shipped.from_node,
        to_node=shipped.to_node,
        lines=lines,
    )
    for line in lines:
        day.books.move(line.sku, shipped.to_node, line.quantity_received)
    return INVENTORY_TRANSFERS, INVENTORY_TRANSFERS.key_for(event), event
