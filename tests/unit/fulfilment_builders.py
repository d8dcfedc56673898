"""Builders for sourcing tests: nodes, networks, profiles, requests and an in-memory snapshot."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.fulfilment.defaults import default_costs
from domain.fulfilment.network import Network
from domain.fulfilment.sourcing import OrderLine, Request
from streams.fulfilment import CostsDefined, Method, NodeDefined, NodeKind, OpeningHours, ProfileDefined, SlotCapacity

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, 10:00 in Amsterdam: every default node is open
HOME = (52.37, 4.90)  # Amsterdam
ALL_DAY = [OpeningHours(weekday=d, opens="00:00", closes="24:00") for d in range(7)]
SHOP_HOURS = [OpeningHours(weekday=d, opens="09:00", closes="21:00") for d in range(7)]
ALL_METHODS: tuple[Method, ...] = ("ship", "same_day", "pickup")


def node(node_id: str, kind: NodeKind = "store", at: tuple[float, float] = HOME, *,
         methods: Iterable[Method] = ALL_METHODS, hours: list[OpeningHours] | None = None, per_hour: int = 50,
         unit: str = "orders", prep_minutes: int = 60, protected: int = 0, active: bool = True) -> NodeDefined:
    return NodeDefined(
        event_id=f"def-{node_id}", occurred_at=T0, source_node="hq", node_id=node_id, version=1, effective_from=T0,
        kind=kind, lat=at[0], lon=at[1], hours=ALL_DAY if hours is None else hours, methods=list(methods),
        capacity=[SlotCapacity(method=m, per_hour=per_hour, unit=unit) for m in methods],  # type: ignore[arg-type]
        prep_minutes=prep_minutes, protected_units=protected, active=active)


def network(*nodes: NodeDefined, costs: CostsDefined | None = None) -> Network:
    return Network(nodes={n.node_id: n for n in nodes}, costs=costs or default_costs(T0))


def profile(kinds: Iterable[NodeKind] = ("store", "warehouse", "dark_store"), **changes: object) -> ProfileDefined:
    fields: dict[str, object] = {
        "event_id": "prof-test", "occurred_at": T0, "source_node": "hq", "profile_id": "test", "version": 1,
        "status": "active", "criteria": ["promise", "shipments", "cost", "distance"],
        "nodes_for": {"ship": list(kinds), "same_day": list(kinds), "pickup": ["store"]}, "max_split": 3}
    return ProfileDefined.model_validate(fields | changes)


def request(*lines: tuple[str, int], method: Method = "ship", to: tuple[float, float] = HOME, promise: str = "standard",
            pickup_node: str | None = None, excluded: Iterable[str] = (), unit_cents: int = 2_000,
            at: datetime = T0) -> Request:
    return Request(order_id="o-1", method=method, promise=promise,  # type: ignore[arg-type]
                   lines=tuple(OrderLine(sku, quantity, unit_cents) for sku, quantity in lines), at=at,
                   lat=to[0], lon=to[1], pickup_node=pickup_node, excluded=frozenset(excluded))


@dataclass
class Snapshot:
    """ATP by SKU and node; free capacity by node, method and slot, else by node, else `default_free`."""

    stock: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    free: Mapping[tuple[str, str, datetime], int] = field(default_factory=dict)
    free_at_node: Mapping[str, int] = field(default_factory=dict)
    default_free: int = 100
    full_nodes: frozenset[str] = frozenset()

    def atp(self, sku: str) -> Mapping[str, int]:
        return self.stock.get(sku, {})

    def free_capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        if node in self.full_nodes:
            return 0
        return self.free.get((node, method, slot_start), self.free_at_node.get(node, self.default_free))


def km_east(km: float) -> tuple[float, float]:
    """A point `km` east of HOME (one degree of longitude is ~67.9 km at 52.37° N)."""
    return HOME[0], HOME[1] + km / 67.9
