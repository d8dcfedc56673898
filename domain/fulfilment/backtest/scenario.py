"""What every profile's replay starts from: stock levels, walk-in sales and restocks beside the month's orders. Pure.

Warehouses are deep on nearly every SKU (days of the whole online demand); stores hold a few
units of the popular SKUs, enough for about `store_cover_days` of their own walk-in sales plus
the units they keep for walk-ins. Walk-in customers buy through each store's opening hours, by
popularity; every node is topped up to its level once a week. Drawn from the seed, so both
profiles replay exactly the same month.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from domain.fulfilment.backtest.month import LINE_COUNT_WEIGHTS, LINE_COUNTS, QUANTITIES, ZONE, Article, MonthShape
from domain.fulfilment.sourcing import Request
from streams.fulfilment import NodeDefined

# Store traffic by weekday, Monday first: Saturday is the busiest day in the shops.
STORE_TRAFFIC = (0.85, 0.85, 0.9, 0.95, 1.1, 1.45, 0.9)
UNITS_PER_ORDER = (sum(n * w for n, w in zip(LINE_COUNTS, LINE_COUNT_WEIGHTS, strict=True))
                   / sum(LINE_COUNT_WEIGHTS) * sum(QUANTITIES) / len(QUANTITIES))


@dataclass(frozen=True)
class StockShape:
    """How the chain stocks its nodes and how fast its shops sell."""

    warehouse_range: float = 0.95  # share of the SKUs each warehouse carries
    warehouse_cover_days: float = 7.0  # of the whole online demand, per warehouse
    warehouse_minimum: int = 6
    store_range: int = 150  # the most popular SKUs a store may carry
    store_carry: float = 0.9  # the share of them it does carry
    walk_in_units_per_day: int = 40  # of the online catalogue's SKUs, per store
    store_cover_days: float = 9.0  # of its own walk-in sales, per SKU, on top of the protected units
    restock_weekday: int = 0  # Monday
    restock_hour: int = 6  # local time


@dataclass(frozen=True)
class WalkIn:
    """One unit sold over a store's counter."""

    at: datetime
    store: str
    sku: str


@dataclass(frozen=True)
class Scenario:
    """The month both profiles replay: orders, walk-in sales, restocks and the levels they start from."""

    orders: tuple[Request, ...]
    walk_ins: tuple[WalkIn, ...]
    restocks: tuple[datetime, ...]
    levels: dict[str, dict[str, int]]  # sku -> node -> units on hand at the start and after each restock
    nodes: tuple[NodeDefined, ...]


def scenario(orders: tuple[Request, ...], nodes: Sequence[NodeDefined], catalogue: Sequence[Article],
             shape: MonthShape, stock: StockShape, start: datetime, seed: int) -> Scenario:
    rng = random.Random(f"{seed}:stock")
    ranked = sorted(catalogue, key=lambda item: (-item.popularity, item.sku))
    levels: dict[str, dict[str, int]] = {item.sku: {} for item in ranked}
    walk_ins: list[WalkIn] = []
    for node in sorted(nodes, key=lambda n: n.node_id):
        if node.kind == "warehouse":
            _stock_warehouse(node.node_id, ranked, shape, stock, levels, rng)
        elif node.kind == "store":
            carried = [item for item in ranked[: stock.store_range] if rng.random() < stock.store_carry]
            _stock_store(node, carried, stock, levels)
            walk_ins += _walk_ins(node, carried, shape.days, stock, start, rng)
    walk_ins.sort(key=lambda w: (w.at, w.store, w.sku))
    return Scenario(orders=orders, walk_ins=tuple(walk_ins), restocks=restocks(shape.days, stock, start),
                    levels=levels, nodes=tuple(sorted(nodes, key=lambda n: n.node_id)))


def restocks(days: int, stock: StockShape, start: datetime) -> tuple[datetime, ...]:
    """The weekly restock moments after the month's first day."""
    zone = ZoneInfo(ZONE)
    first = start.astimezone(zone).date()
    moments = []
    for day in range(1, days):
        date = first + timedelta(days=day)
        if date.weekday() == stock.restock_weekday:
            moments.append(datetime.combine(date, time(stock.restock_hour), zone).astimezone(UTC))
    return tuple(moments)


def _stock_warehouse(node: str, ranked: Sequence[Article], shape: MonthShape, stock: StockShape,
                     levels: dict[str, dict[str, int]], rng: random.Random) -> None:
    daily_units = shape.orders_per_day * UNITS_PER_ORDER
    for item in ranked:
        if rng.random() < stock.warehouse_range:
            cover = math.ceil(daily_units * item.popularity * stock.warehouse_cover_days)
            levels[item.sku][node] = max(stock.warehouse_minimum, cover)


def _stock_store(node: NodeDefined, carried: Sequence[Article], stock: StockShape,
                 levels: dict[str, dict[str, int]]) -> None:
    total = sum(item.popularity for item in carried) or 1.0
    for item in carried:
        daily = stock.walk_in_units_per_day * item.popularity / total
        levels[item.sku][node.node_id] = node.protected_units + max(1, math.ceil(daily * stock.store_cover_days))


def _walk_ins(node: NodeDefined, carried: Sequence[Article], days: int, stock: StockShape, start: datetime,
              rng: random.Random) -> list[WalkIn]:
    if not carried:
        return []
    zone = ZoneInfo(node.timezone)
    first = start.astimezone(zone).date()
    cumulative = tuple(accumulate(item.popularity for item in carried))
    sales = []
    for day in range(days):
        date = first + timedelta(days=day)
        hours = next((h for h in node.hours if h.weekday == date.weekday()), None)
        if hours is None:
            continue
        opens = datetime.combine(date, _clock(hours.opens), zone)
        closes = datetime.combine(date + timedelta(days=1), time(0), zone) if hours.closes == "24:00" \
            else datetime.combine(date, _clock(hours.closes), zone)
        open_s = int((closes - opens).total_seconds())
        units = round(stock.walk_in_units_per_day * STORE_TRAFFIC[date.weekday()])
        for item in rng.choices(carried, cum_weights=cumulative, k=units):
            at = (opens + timedelta(seconds=rng.randrange(open_s))).astimezone(UTC)
            sales.append(WalkIn(at=at, store=node.node_id, sku=item.sku))
    return sales


def _clock(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))
