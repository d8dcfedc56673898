"""The hold benchmark's workload and arithmetic: receipts, PlaceHold commands, percentiles. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from streams.codec import encode
from streams.holds import PlaceHold
from streams.stock import StockLine, StockReceived

TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Network:
    """The SKUs and nodes a run holds against, and the units each position starts with."""

    skus: int = 200
    nodes: int = 20
    units: int = 1_000

    def sku(self, n: int) -> str:
        return f"SKU-{n % self.skus:06d}"

    def node(self, n: int) -> str:
        return f"st-{n % self.nodes:03d}"

    @property
    def positions(self) -> int:
        return self.skus * self.nodes


@dataclass(frozen=True)
class WireCommand:
    """One encoded command: Kafka key and value, and the id its answer carries as `command_id`."""

    key: bytes
    value: bytes
    command_id: str


def receipts(network: Network, run: str, now: datetime | None = None) -> list[tuple[bytes, bytes]]:
    """One StockReceived per node with a line for every SKU: (key = node, value) records."""
    now = now or datetime.now(UTC)
    records = []
    for n in range(network.nodes):
        node = network.node(n)
        lines = [StockLine(sku=network.sku(s), quantity=network.units) for s in range(network.skus)]
        event = StockReceived(event_id=f"brcv-{run}-{n}", occurred_at=now, source_node=node,
                              delivery_id=f"bd-{run}-{n}", supplier_id="bench", lines=lines)
        records.append((node.encode(), encode(event)))
    return records


def place_holds(network: Network, run: str, first: int, count: int, now: datetime | None = None) -> list[WireCommand]:
    """`count` holds of one unit, numbered from `first`, walking every SKU before the next node.

    Consecutive holds hit different SKUs, so they spread over the SKU log's partitions; each
    has its own hold id and order id, and expires an hour after `now`.
    """
    now = now or datetime.now(UTC)
    commands = []
    for i in range(first, first + count):
        sku, node = network.sku(i), network.node(i // network.skus)
        hold = PlaceHold(event_id=f"bp-{run}-{i}", occurred_at=now, source_node="web", hold_id=f"bh-{run}-{i}",
                         order_id=f"bo-{run}-{i}", sku=sku, node=node, quantity=1, expires_at=now + TTL)
        commands.append(WireCommand(hold.order_id.encode(), encode(hold), hold.event_id))
    return commands


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rate(count: float, seconds: float | None) -> float | None:
    return round(count / seconds, 1) if seconds else None


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(1000 * seconds, 1)
