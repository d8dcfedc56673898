"""A deterministic synthetic Dutch network, its stock and its orders, for the fulfilment benchmark. Pure.

100 nodes across the Netherlands' bounding box (the simulator's): ~80 stores open
Monday to Saturday 09:00-21:00 and Sunday 12:00-18:00, ~15 warehouses open around the clock,
~5 dark stores open 07:00-23:00. Every SKU is stocked at a random ~60 % of the nodes. Orders
ship to addresses scattered around the stores (people live where the shops are), spread
evenly over a Tuesday, so the run meets open, closing and closed hours.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.fulfilment.defaults import default_costs, network_profile
from domain.fulfilment.network import Network
from domain.fulfilment.sourcing import OrderLine, Request, Snapshot
from sim.network import LAT_RANGE, LON_RANGE
from streams.fulfilment import Method, NodeDefined, NodeKind, OpeningHours, ProfileDefined, SlotCapacity

T0 = datetime(2026, 3, 3, 5, tzinfo=UTC)  # fixed, a Tuesday 06:00 in Amsterdam: figures must not depend on the day run
SEED = 20260303
KINDS: tuple[tuple[NodeKind, int], ...] = (("store", 80), ("warehouse", 15), ("dark_store", 5))
SKUS = 2_000
STOCKED_SHARE = 0.6
LINES = 5
ADDRESS_SPREAD_DEG = 0.08  # ~6-9 km around a store
FREE = 1_000  # capacity units free in every slot


def _hours(kind: NodeKind) -> list[OpeningHours]:
    if kind == "warehouse":
        return [OpeningHours(weekday=d, opens="00:00", closes="24:00") for d in range(7)]
    if kind == "dark_store":
        return [OpeningHours(weekday=d, opens="07:00", closes="23:00") for d in range(7)]
    return [OpeningHours(weekday=d, opens="09:00", closes="21:00") for d in range(6)] + [
        OpeningHours(weekday=6, opens="12:00", closes="18:00")]


def _node(rng: random.Random, kind: NodeKind, n: int) -> NodeDefined:
    methods: list[Method] = ["ship", "same_day", "pickup"] if kind == "store" else ["ship", "same_day"]
    per_hour = {"store": 8, "warehouse": 400, "dark_store": 40}[kind]  # orders an hour: staff on the floor
    return NodeDefined(
        event_id=f"bench-{kind}-{n}", occurred_at=T0, source_node="hq", node_id=f"{kind.replace('_', '-')}-{n:03d}",
        version=1, effective_from=T0, kind=kind,
        lat=round(rng.uniform(*LAT_RANGE), 5), lon=round(rng.uniform(*LON_RANGE), 5),
        hours=_hours(kind), methods=methods, capacity=[SlotCapacity(method=m, per_hour=per_hour) for m in methods],
        prep_minutes={"store": 60, "warehouse": 120, "dark_store": 20}[kind],
        protected_units=1 if kind == "store" else 0)


@dataclass(frozen=True)
class BenchSnapshot:
    """ATP by SKU then node; every slot has `FREE` capacity units."""

    stock: Mapping[str, Mapping[str, int]]

    def atp(self, sku: str) -> Mapping[str, int]:
        return self.stock.get(sku, {})

    def free_capacity(self, node: str, method: Method, slot_start: datetime) -> int:
        return FREE


@dataclass(frozen=True)
class Workload:
    network: Network
    snapshot: Snapshot
    profile: ProfileDefined
    requests: list[Request]
    skus: int = SKUS
    lines: int = LINES


def sku(n: int) -> str:
    return f"SKU-{n:05d}"


def workload(orders: int, seed: int = SEED) -> Workload:
    rng = random.Random(seed)
    nodes = [_node(rng, kind, n) for kind, count in KINDS for n in range(count)]
    ids = [n.node_id for n in nodes]
    stock = {sku(s): {node: rng.randint(1, 12) for node in ids if rng.random() < STOCKED_SHARE} for s in range(SKUS)}
    stores = [n for n in nodes if n.kind == "store"]
    spacing = timedelta(days=1) / max(orders, 1)
    requests = []
    for i in range(orders):
        home = rng.choice(stores)
        lines = tuple(OrderLine(sku(s), 1 if rng.random() < 0.8 else 2, rng.randrange(500, 5_000, 5))
                      for s in rng.sample(range(SKUS), LINES))
        requests.append(Request(
            order_id=f"bench-{i}", method="ship", promise="standard", lines=lines, at=T0 + i * spacing,
            lat=home.lat + rng.gauss(0, ADDRESS_SPREAD_DEG), lon=home.lon + rng.gauss(0, ADDRESS_SPREAD_DEG)))
    net = Network(nodes={n.node_id: n for n in nodes}, costs=default_costs(T0))
    return Workload(network=net, snapshot=BenchSnapshot(stock), profile=network_profile(T0), requests=requests)


def first_fit(request: Request, snapshot: Snapshot, nodes: list[str]) -> str | None:
    """The baseline: the first node, in network order, with ATP for every line."""
    stocks = [(snapshot.atp(line.sku), line.quantity) for line in request.lines]
    for node in nodes:
        if all(stock.get(node, 0) >= quantity for stock, quantity in stocks):
            return node
    return None
