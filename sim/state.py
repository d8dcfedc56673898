"""What the simulator remembers during the day: the clock, the books, receipts, orders, prices, the price book."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sim.config import SimConfig
from sim.network import Network
from sim.pricing import LocalBook
from streams.base import Event
from streams.orders import DeliveryMode
from streams.pos import CustomerRef
from streams.stock import TransferShipped
from streams.topics import TopicSpec

if TYPE_CHECKING:
    from sim.fraud import FraudPlan

# What the simulator sends: the topic, the Kafka key and the event.
Emission = tuple[TopicSpec, bytes, Event]
Pair = tuple[str, str]  # (sku, node)
T = TypeVar("T")
# The simulated trading day the events spread over.
TRADING_DAY = timedelta(hours=14)


@dataclass
class Books:
    """On hand and held units per (sku, node) as the simulator believes them, and which pairs
    channels touched.

    An online order holds its units at its fulfilment node when placed: they stay on hand but
    are no longer `available` to tills, transfers or other orders. A cancellation releases them
    and a shipment or pick-up commits them (on hand and held both fall). Every channel takes only
    what is available, so held units never exceed on hand.

    Counts replace on hand and damage is capped at on hand, so their effect depends on order.
    Ingest topics are consumed in no fixed order against each other, so counts and damage only
    touch pairs that no other topic ever moves or holds (`touched`), and those pairs are then
    `locked` against every other channel. The expected stock is then the same in any consumption
    order that keeps each topic key's own order.
    """

    on_hand: dict[Pair, int] = field(default_factory=dict)
    held: dict[Pair, int] = field(default_factory=dict)
    touched: set[Pair] = field(default_factory=set)
    locked: set[Pair] = field(default_factory=set)

    def available(self, sku: str, node: str) -> int:
        """What a channel may take: on hand less held, never below 0; nothing from a pair
        reserved for the back room."""
        if (sku, node) in self.locked:
            return 0
        return max(0, self.on_hand.get((sku, node), 0) - self.held.get((sku, node), 0))

    def move(self, sku: str, node: str, delta: int) -> None:
        """A movement from a till or a transfer."""
        self._touch(sku, node)
        self.on_hand[(sku, node)] = self.on_hand.get((sku, node), 0) + delta

    def hold(self, sku: str, node: str, quantity: int) -> None:
        """An order's units promised at its fulfilment node: at most what is available."""
        if quantity > self.available(sku, node):
            raise AssertionError(f"{quantity} x {sku} at {node}: only {self.available(sku, node)} available")
        self._touch(sku, node)
        self.held[(sku, node)] = self.held.get((sku, node), 0) + quantity

    def release(self, sku: str, node: str, quantity: int) -> None:
        """Held units given back (a cancellation): available again, on hand unchanged."""
        self._unhold(sku, node, quantity)

    def commit(self, sku: str, node: str, quantity: int) -> None:
        """Held units that left (a shipment or pick-up): on hand and held both fall."""
        self._unhold(sku, node, quantity)
        self.on_hand[(sku, node)] = self.on_hand.get((sku, node), 0) - quantity

    def receive(self, sku: str, node: str, quantity: int) -> None:
        """A supplier delivery: on the node's own adjustments key, so any pair may take it."""
        self.on_hand[(sku, node)] = self.on_hand.get((sku, node), 0) + quantity

    def back_room_only(self, sku: str, node: str) -> bool:
        return (sku, node) not in self.touched

    def reserve_for_back_room(self, sku: str, node: str, on_hand: int) -> None:
        self.locked.add((sku, node))
        self.on_hand[(sku, node)] = on_hand

    def _touch(self, sku: str, node: str) -> None:
        if (sku, node) in self.locked:
            raise AssertionError(f"{sku} at {node} is reserved for counts and damage")
        self.touched.add((sku, node))

    def _unhold(self, sku: str, node: str, quantity: int) -> None:
        held = self.held.get((sku, node), 0)
        if not 0 <= quantity <= held:
            raise AssertionError(f"{quantity} x {sku} at {node}: only {held} held")
        self.held[(sku, node)] = held - quantity


@dataclass(frozen=True)
class Receipt:
    """A till sale that may later be voided or returned."""

    receipt_id: str
    store: str
    terminal_id: str
    customer: CustomerRef | None
    lines: tuple[tuple[str, int, int], ...]  # (sku, quantity, net cents)


@dataclass
class OpenOrder:
    """An online order not yet shipped or picked up: it may still be cancelled, in part."""

    order_id: str
    channel: str
    node: str
    delivery: DeliveryMode
    lines: dict[str, int]  # sku -> units still held for it (ordered less cancelled)


@dataclass(frozen=True)
class Promotion:
    promotion_id: str
    skus: tuple[str, ...]
    percent_off: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class DayState:
    """The mutable state of one simulated day; only `sim` builders touch it."""

    config: SimConfig
    rng: random.Random
    network: Network
    clock: datetime
    sequence: int = 0
    books: Books = field(default_factory=Books)
    receipts: list[Receipt] = field(default_factory=list)
    orders: list[OpenOrder] = field(default_factory=list)
    in_transit: list[tuple[datetime, int, TransferShipped]] = field(default_factory=list)
    prices: dict[Pair, int] = field(default_factory=dict)  # node "" is the central price
    promotions: dict[str, Promotion] = field(default_factory=dict)  # the legacy ones still live
    pricing: LocalBook = field(default_factory=LocalBook)  # what tills and checkout price with
    fraud: FraudPlan | None = None  # labelled fraud cases still to send

    def stamp(self, gap: timedelta | None = None) -> tuple[str, datetime]:
        """The next event's id and time; business ids (receipt, order...) reuse the id."""
        self.sequence += 1
        self.clock += gap if gap is not None else self._gap()
        return f"{self.config.run}-{self.config.seed}-{self.sequence:08d}", self.clock

    def _gap(self) -> timedelta:
        mean_ms = TRADING_DAY / timedelta(milliseconds=1) / max(1, self.config.events)
        return timedelta(milliseconds=round(self.rng.expovariate(1.0 / mean_ms)))

    def price(self, sku: str, node: str) -> int:
        return self.prices.get((sku, node)) or self.prices[(sku, "")]

    def ship(self, transfer: TransferShipped) -> None:
        heapq.heappush(self.in_transit, (transfer.eta, self.sequence, transfer))

    def arrived(self) -> TransferShipped | None:
        """The transfer due first, once the clock has passed its eta."""
        if self.in_transit and self.in_transit[0][0] <= self.clock:
            return heapq.heappop(self.in_transit)[2]
        return None


def take(pool: list[T], index: int) -> T:
    """Remove and return pool[index] in O(1); the order of a pool carries no meaning."""
    item = pool[index]
    pool[index] = pool[-1]
    pool.pop()
    return item
