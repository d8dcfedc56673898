"""What a run sent, summed from the events themselves, so tests can compare results exactly."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from domain.movements import movements_for
from domain.stock import replay
from sim.config import SimConfig
from sim.fraud import FraudCase
from streams.base import Event
from streams.codec import encode
from streams.inventory import StockMovement
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.pos import PosSale
from streams.topics import TopicSpec

# (sku, node, on_hand, damaged), sorted by sku then node.
PositionRow = tuple[str, str, int, int]
HASH_PIECE = 2_047


@dataclass(frozen=True)
class LineTotals:
    """Lines of one kind of event: how many, how many units, and their net value."""

    events: int = 0
    lines: int = 0
    quantity: int = 0
    net_cents: int = 0


@dataclass(frozen=True)
class Report:
    """Everything a run sent, and the stock the pipeline should end with."""

    config: dict[str, Any]
    events: int
    bytes: int
    digest: str  # sha256 over every (topic, key, value) in send order
    first_occurred_at: str | None
    last_occurred_at: str | None
    topics: dict[str, int]  # logical topic name (no prefix) -> events
    event_types: dict[str, int]
    sales: LineTotals
    orders: LineTotals
    movements: int
    on_hand_units: int
    damaged_units: int
    positions: tuple[PositionRow, ...] = field(repr=False)
    fulfilled_orders: int = 0  # orders shipped or picked up (their first such event)
    fraud_cases: list[dict[str, Any]] = field(default_factory=list)  # labelled cases sent (FraudCase.as_dict)

    def expected_on_hand(self) -> dict[tuple[str, str], int]:
        return {(sku, node): on_hand for sku, node, on_hand, _ in self.positions}

    def expected_damaged(self) -> dict[tuple[str, str], int]:
        return {(sku, node): damaged for sku, node, _, damaged in self.positions}

    def to_json(self) -> str:
        """Compact JSON on one line; positions as [sku, node, on_hand, damaged] rows."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Report:
        data = json.loads(text)
        data["sales"] = LineTotals(**data["sales"])
        data["orders"] = LineTotals(**data["orders"])
        data["positions"] = tuple(tuple(row) for row in data["positions"])
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> Report:
        return cls.from_json(Path(path).read_text())

    def summary(self) -> str:
        """A few lines for people; the JSON is for programs."""
        topics = ", ".join(f"{name} {n}" for name, n in self.topics.items())
        return "\n".join(
            [
                f"{self.events} events ({self.bytes / 1e6:.1f} MB), seed {self.config['seed']}: {topics}",
                f"till sales: {self.sales.events} receipts, {self.sales.quantity} units, "
                f"{self.sales.net_cents / 100:,.2f} net",
                f"online orders: {self.orders.events} orders, {self.orders.quantity} units, "
                f"{self.orders.net_cents / 100:,.2f} net",
                f"fulfilled orders: {self.fulfilled_orders} shipped or picked up",
                f"stock: {self.movements} movements, {len(self.positions)} positions, "
                f"{self.on_hand_units} units on hand, {self.damaged_units} damaged",
                f"fraud: {len(self.fraud_cases)} labelled cases{_by_rule(self.fraud_cases)}",
                f"digest {self.digest}",
            ]
        )


def _by_rule(cases: list[dict[str, Any]]) -> str:
    counts = Counter(case["rule"] for case in cases)
    return f" ({', '.join(f'{rule} {n}' for rule, n in sorted(counts.items()))})" if counts else ""


@dataclass
class _Order:
    node: str
    remaining: dict[str, int]  # sku -> units ordered less units cancelled
    fulfilled: bool = False


class OrderBook:
    """What online orders do to on hand: nothing until they leave their fulfilment node.

    Placing an order only holds its units and a cancellation only releases them, so neither is
    a movement. The first shipment or pick-up of an order commits what is left of it, whatever
    became of its holds (the goods left): one `hold_commit` movement per SKU still wanted.
    Quantities of one SKU on several lines are summed, as the order saga does; a cancellation
    takes at most what is left, and one after the order left changes nothing.
    """

    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._seen: set[str] = set()  # cancellations applied, by event id
        self.fulfilled = 0

    def movements(self, event: Event) -> list[StockMovement]:
        """The movements `event` causes through the orders it belongs to (none for other events)."""
        match event:
            case OrderPlaced() if event.order_id not in self._orders and event.fulfilment_node is not None:
                # An order without a node goes where sourcing decides: the simulator places pinned ones only.
                remaining: dict[str, int] = {}
                for line in event.lines:
                    remaining[line.sku] = remaining.get(line.sku, 0) + line.quantity
                self._orders[event.order_id] = _Order(event.fulfilment_node, remaining)
            case OrderCancelled() if event.order_id in self._orders and event.event_id not in self._seen:
                self._seen.add(event.event_id)
                order = self._orders[event.order_id]
                if not order.fulfilled:
                    for cancelled in event.lines:
                        left = order.remaining.get(cancelled.sku, 0)
                        if left:
                            order.remaining[cancelled.sku] = left - min(cancelled.quantity, left)
            case OrderShipped() | OrderPickedUp() if event.order_id in self._orders:
                order = self._orders[event.order_id]
                if not order.fulfilled:
                    order.fulfilled = True
                    self.fulfilled += 1
                    return _commits(event, order)
        return []


def _commits(event: OrderShipped | OrderPickedUp, order: _Order) -> list[StockMovement]:
    left = [(sku, quantity) for sku, quantity in order.remaining.items() if quantity > 0]
    return [
        StockMovement(
            event_id=f"{event.event_id}:{n}",
            occurred_at=event.occurred_at,
            source_node=order.node,
            sku=sku,
            node=order.node,
            kind="hold_commit",
            quantity=-quantity,
            cause_event_id=event.event_id,
            cause_type=event.type,
        )
        for n, (sku, quantity) in enumerate(left)
    ]


def expected_movements(events: Iterable[Event]) -> list[StockMovement]:
    """Every movement the pipeline must apply for `events`, taken in this order: each event's
    own movements, and the commits of orders shipped or picked up."""
    book = OrderBook()
    return [movement for event in events for movement in (*movements_for(event), *book.movements(event))]


class ReportBuilder:
    """Accumulates a report one sent event at a time."""

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._topics: Counter[str] = Counter()
        self._types: Counter[str] = Counter()
        self._hash = hashlib.sha256()
        self._bytes = 0
        self._sales = LineTotals()
        self._orders = LineTotals()
        self._movements: list[StockMovement] = []
        self._order_book = OrderBook()
        self._first: str | None = None
        self._last: str | None = None

    def add(self, spec: TopicSpec, key: bytes, event: Event, raw: bytes | None = None) -> None:
        raw = encode(event) if raw is None else raw
        self._topics[spec.name] += 1
        self._types[event.type] += 1  # type: ignore[attr-defined]  # every concrete event has one
        self._bytes += len(raw)
        for part in (spec.name.encode(), key, raw):
            self._digest(len(part).to_bytes(4, "big"))
            self._digest(part)
        self._first = self._first or event.occurred_at.isoformat()
        self._last = event.occurred_at.isoformat()
        if isinstance(event, PosSale):
            self._sales = _add_lines(self._sales, event)
        elif isinstance(event, OrderPlaced):
            self._orders = _add_lines(self._orders, event)
        self._movements.extend(movements_for(event))
        self._movements.extend(self._order_book.movements(event))

    def _digest(self, data: bytes) -> None:
        # hashlib releases the GIL for inputs over 2 KiB; while kafka-python's sender thread
        # runs, getting it back costs a thread switch, so hash in pieces that keep it.
        for start in range(0, len(data), HASH_PIECE):
            self._hash.update(data[start : start + HASH_PIECE])

    def build(self, fraud_cases: Iterable[FraudCase] = ()) -> Report:
        positions = replay(self._movements)
        rows = tuple(sorted((sku, node, p.on_hand, p.damaged) for (sku, node), p in positions.items()))
        return Report(
            config=self._config.as_dict(),
            events=sum(self._topics.values()),
            bytes=self._bytes,
            digest=self._hash.hexdigest(),
            first_occurred_at=self._first,
            last_occurred_at=self._last,
            topics=dict(sorted(self._topics.items())),
            event_types=dict(sorted(self._types.items())),
            sales=self._sales,
            orders=self._orders,
            movements=len(self._movements),
            on_hand_units=sum(row[2] for row in rows),
            damaged_units=sum(row[3] for row in rows),
            positions=rows,
            fulfilled_orders=self._order_book.fulfilled,
            fraud_cases=[case.as_dict() for case in fraud_cases],
        )


def _add_lines(totals: LineTotals, event: PosSale | OrderPlaced) -> LineTotals:
    return LineTotals(
        events=totals.events + 1,
        lines=totals.lines + len(event.lines),
        quantity=totals.quantity + sum(line.quantity for line in event.lines),
        net_cents=totals.net_cents + sum(line.net_cents for line in event.lines),
    )
