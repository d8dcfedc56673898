"""A simulated month of online orders from a seed: who orders, when, how it is delivered and what. Pure.

Customers order from where they live (`lat`, `lon`) and pick up at their home store. Each
day's volume follows a weekly shape, each order's hour a daily one (business hours and the
evening heavier); same-day orders come only before the shop's same-day cut-off. Lines are
drawn by SKU popularity (1-4 of them), priced from the catalogue. Dated from `start`: nothing
here reads a clock, and the same seed always gives the same month.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.fulfilment.sourcing import OrderLine, Request
from streams.fulfilment import Method, PromiseClass

ZONE = "Europe/Amsterdam"
# Monday first: Sunday evening and Monday are the web shop's busiest days.
WEEKDAY_SHAPE = (1.10, 1.00, 0.95, 0.95, 0.95, 0.85, 1.20)
# Local hours 0-23: quiet at night, a midday plateau and an evening peak after work.
HOUR_SHAPE = (0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 2.8,
              3.0, 3.0, 2.8, 2.6, 2.6, 2.8, 3.0, 3.5, 3.8, 3.5, 2.5, 1.0)
SAME_DAY_HOURS = range(7, 16)  # the shop offers same-day delivery until 16:00
LINE_COUNTS = (1, 2, 3, 4)
LINE_COUNT_WEIGHTS = (45, 30, 15, 10)
QUANTITIES = (1, 1, 1, 2)


class Shopper(Protocol):
    """A customer as the month needs one: where they live and their home store."""

    @property
    def number(self) -> int: ...
    @property
    def home_store(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


class Article(Protocol):
    """A catalogue entry: the SKU, its price and its share of demand."""

    @property
    def sku(self) -> str: ...
    @property
    def price_cents(self) -> int: ...
    @property
    def popularity(self) -> float: ...


@dataclass(frozen=True)
class Delivery:
    """A delivery option the customer picks, as the sourcing request names it."""

    name: str
    method: Method
    promise: PromiseClass
    share: float


DELIVERIES = (
    Delivery("standard", "ship", "standard", 0.60),
    Delivery("express", "ship", "express", 0.10),
    Delivery("same_day", "same_day", "same_day", 0.15),
    Delivery("pickup", "pickup", "standard", 0.15),
)


@dataclass(frozen=True)
class MonthShape:
    """How big the month is."""

    days: int = 30
    orders_per_day: int = 1_000

    def orders_on(self, day: datetime) -> int:
        return round(self.orders_per_day * WEEKDAY_SHAPE[day.weekday()])


def delivery_of(request: Request) -> str:
    """The delivery option's name of a request (`standard`, `express`, `same_day`, `pickup`)."""
    return next(d.name for d in DELIVERIES if d.method == request.method and d.promise == request.promise)


def month_of_orders(customers: Sequence[Shopper], catalogue: Sequence[Article], shape: MonthShape,
                    start: datetime, seed: int) -> tuple[Request, ...]:
    """Every order of the month as a sourcing request, in time order (ties by order id)."""
    rng = random.Random(f"{seed}:month")
    zone = ZoneInfo(ZONE)
    first = start.astimezone(zone).date()
    cumulative = tuple(accumulate(item.popularity for item in catalogue))
    orders = []
    for day in range(shape.days):
        midnight = datetime.combine(first + timedelta(days=day), time(0), zone)
        for n in range(shape.orders_on(midnight)):
            customer = customers[rng.randrange(len(customers))]
            orders.append(_order(f"bt-{day + 1:02d}-{n + 1:05d}", customer, catalogue, cumulative, midnight, rng))
    return tuple(sorted(orders, key=lambda r: (r.at, r.order_id)))


def _order(order_id: str, customer: Shopper, catalogue: Sequence[Article], cumulative: tuple[float, ...],
           midnight: datetime, rng: random.Random) -> Request:
    delivery = rng.choices(DELIVERIES, weights=[d.share for d in DELIVERIES])[0]
    hours = SAME_DAY_HOURS if delivery.method == "same_day" else range(24)
    hour = rng.choices(hours, weights=[HOUR_SHAPE[h] for h in hours])[0]
    local = midnight.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
    pickup = delivery.method == "pickup"
    return Request(
        order_id=order_id, method=delivery.method, promise=delivery.promise, lines=_lines(catalogue, cumulative, rng),
        at=local.astimezone(UTC), lat=None if pickup else customer.lat,
        lon=None if pickup else customer.lon, pickup_node=customer.home_store if pickup else None,
    )


def _lines(catalogue: Sequence[Article], cumulative: tuple[float, ...], rng: random.Random) -> tuple[OrderLine, ...]:
    """Distinct SKUs by popularity, in the order drawn."""
    wanted: dict[str, OrderLine] = {}
    for _ in range(rng.choices(LINE_COUNTS, weights=LINE_COUNT_WEIGHTS)[0]):
        item = rng.choices(catalogue, cum_weights=cumulative)[0]
        wanted.setdefault(item.sku, OrderLine(item.sku, rng.choice(QUANTITIES), item.price_cents))
    return tuple(wanted.values())
