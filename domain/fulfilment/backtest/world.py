"""One profile's copy of the world during a replay: stock and capacity as they stand at each order. Pure.

It is the sourcing `Snapshot` (ATP per SKU and node, free capacity per node, method and slot)
and the stock authority both: a plan takes its units and capacity only when all of them are
there (all or nothing), so stock never goes below zero and no slot holds more than its
capacity. Walk-in sales take a unit when there is one, and count a stock-out when there is
not; a restock tops every node up to its starting level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.fulfilment.backtest.scenario import Scenario, WalkIn
from domain.fulfilment.capacity import is_open
from streams.fulfilment import Method, NodeDefined, Shipment

NOTHING: Mapping[str, int] = {}
LAST_SECOND = timedelta(hours=1, seconds=-1)


@dataclass
class Tally:
    """What happened at the stores' counters and pick lists during the replay."""

    walk_ins: int = 0
    walk_in_stockouts: int = 0
    walk_in_stockouts_after_online: int = 0  # the store had picked that SKU online since the last restock
    store_units_picked: int = 0
    refused: int = 0  # plans the world could not hold: the snapshot and the authority disagreed


@dataclass
class World:
    on_hand: dict[str, dict[str, int]]  # sku -> node -> units
    levels: dict[str, dict[str, int]]
    nodes: dict[str, NodeDefined]
    used: dict[tuple[str, str, datetime], int] = field(default_factory=dict)  # (node, method, slot) -> units
    picked_online: set[tuple[str, str]] = field(default_factory=set)  # (store, sku) since the last restock
    tally: Tally = field(default_factory=Tally)
    _per_hour: dict[tuple[str, str], int] = field(default_factory=dict)
    _hours: dict[str, tuple[object, ...]] = field(default_factory=dict)
    _open: dict[tuple[tuple[object, ...], datetime], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario) -> World:
        on_hand = {sku: dict(by_node) for sku, by_node in scenario.levels.items()}
        world = cls(on_hand=on_hand, levels=scenario.levels, nodes={n.node_id: n for n in scenario.nodes})
        for node in scenario.nodes:
            world._hours[node.node_id] = (node.timezone, *((h.weekday, h.opens, h.closes) for h in node.hours))
            for room in node.capacity:
                if room.method in node.methods:
                    world._per_hour[(node.node_id, room.method)] = room.per_hour
        return world

    # --- the sourcing snapshot -------------------------------------------------------------

    def atp(self, sku: str) -> Mapping[str, int]:
        return self.on_hand.get(sku, NOTHING)

    def free_capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        return self.capacity(node, method, slot_start) - self.used.get((node, method, slot_start), 0)

    def capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        """The slot's capacity: the node's per hour for the method when it is open the whole hour, else 0."""
        per_hour = self._per_hour.get((node, method), 0)
        return per_hour if per_hour and self._open_through(self.nodes[node], slot_start) else 0

    def _open_through(self, node: NodeDefined, slot_start: datetime) -> bool:
        key = (self._hours[node.node_id], slot_start)  # nodes share a few opening patterns
        known = self._open.get(key)
        if known is None:
            known = self._open[key] = is_open(node, slot_start) and is_open(node, slot_start + LAST_SECOND)
        return known

    # --- what changes it -------------------------------------------------------------------

    def hold(self, shipments: tuple[Shipment, ...]) -> bool:
        """Take a plan's units and capacity, all or nothing; False (and nothing taken) when any is short."""
        if not self._fits(shipments):
            self.tally.refused += 1
            return False
        for shipment in shipments:
            key = (shipment.node, shipment.method, shipment.slot_start)
            self.used[key] = self.used.get(key, 0) + shipment.capacity_units
            store = self.nodes[shipment.node].kind == "store"
            for line in shipment.lines:
                self.on_hand[line.sku][shipment.node] -= line.quantity
                if store:
                    self.tally.store_units_picked += line.quantity
                    self.picked_online.add((shipment.node, line.sku))
        return True

    def _fits(self, shipments: tuple[Shipment, ...]) -> bool:
        wanted: dict[tuple[str, str], int] = {}
        slots: dict[tuple[str, str, datetime], int] = {}
        for s in shipments:
            slots[(s.node, s.method, s.slot_start)] = slots.get((s.node, s.method, s.slot_start), 0) + s.capacity_units
            for line in s.lines:
                wanted[(line.sku, s.node)] = wanted.get((line.sku, s.node), 0) + line.quantity
        return (all(self.atp(sku).get(node, 0) >= units for (sku, node), units in wanted.items())
                and all(self.free_capacity(node, method, slot) >= units  # type: ignore[arg-type]
                        for (node, method, slot), units in slots.items()))

    def walk_in(self, sale: WalkIn) -> None:
        self.tally.walk_ins += 1
        by_node = self.on_hand.get(sale.sku, {})
        if by_node.get(sale.store, 0) > 0:
            by_node[sale.store] -= 1
            return
        self.tally.walk_in_stockouts += 1
        if (sale.store, sale.sku) in self.picked_online:
            self.tally.walk_in_stockouts_after_online += 1

    def restock(self) -> None:
        for sku, by_node in self.levels.items():
            here = self.on_hand.setdefault(sku, {})
            for node, level in by_node.items():
                here[node] = max(here.get(node, 0), level)
        self.picked_online.clear()
