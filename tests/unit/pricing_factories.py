"""Price books, baskets and contexts for the pricing tests, all dated relative to AT."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.pricing.basket import Basket, BasketLine, Lease, PricingContext
from domain.pricing.book import PriceBook
from streams.pricing import (
    BookEvent,
    Budget,
    Conditions,
    Coupon,
    PriceChanged,
    ProductDescribed,
    PromotionDefined,
    PromotionGroupDefined,
    Reward,
)

AT = datetime(2026, 3, 4, 12, tzinfo=UTC)
DAY = timedelta(days=1)
PUBLISHED = AT - 10 * DAY

CONDITION_FIELDS = {"skus", "categories", "channels", "nodes", "tiers", "min_basket_cents", "min_quantity"}


def book(*events: BookEvent | Iterable[BookEvent]) -> PriceBook:
    """A book holding the events, in the order given (nested iterables flattened)."""
    out = PriceBook()
    flat: list[BookEvent] = []
    for e in events:
        flat.extend(e if isinstance(e, list | tuple) else [e])  # a pydantic event is iterable too
    for offset, event in enumerate(flat):
        out.apply(event, offset)
    return out


def price_of(sku: str, cents: int, list_id: str = "base", effective: datetime = AT - 30 * DAY) -> PriceChanged:
    return PriceChanged(event_id=f"p-{sku}-{list_id}-{effective:%Y%m%d%H}".replace(":", "-"), occurred_at=effective,
                        source_node="head-office", sku=sku, price_cents=cents, effective_from=effective,
                        price_list=None if list_id == "base" else list_id)


def product(sku: str, category: str = "food", promotable: bool = True) -> ProductDescribed:
    return ProductDescribed(event_id=f"d-{sku}", occurred_at=PUBLISHED, source_node="head-office", sku=sku,
                            category=category, promotable=promotable)


def catalogue(items: dict[str, tuple[int, str]], promotable: bool = True) -> list[BookEvent]:
    """Base prices and descriptions: {sku: (cents, category)}."""
    out: list[BookEvent] = []
    for sku, (cents, category) in items.items():
        out += [price_of(sku, cents), product(sku, category, promotable)]
    return out


def promotion(promotion_id: str, kind: str = "percent_off", *, group: str = "default", priority: int = 0,
              status: str = "active", starts: datetime = AT - DAY, ends: datetime = AT + DAY, version: int = 1,
              coupon: Coupon | None = None, budget: Budget | None = None, published: datetime = PUBLISHED,
              **fields: Any) -> PromotionDefined:
    """A promotion; keyword fields go to its conditions (skus, categories, ...) or its reward (percent, ...)."""
    conditions = Conditions(**{k: v for k, v in fields.items() if k in CONDITION_FIELDS})
    reward = Reward(kind=kind, **{k: v for k, v in fields.items() if k not in CONDITION_FIELDS})  # type: ignore[arg-type]
    return PromotionDefined(
        event_id=f"pr-{promotion_id}-{version}", occurred_at=published, source_node="head-office",
        promotion_id=promotion_id, version=version, name=promotion_id, status=status,  # type: ignore[arg-type]
        starts_at=starts, ends_at=ends, conditions=conditions, reward=reward, group=group, priority=priority,
        coupon=coupon, budget=budget)


def group(group_id: str, rank: int, mode: str = "stack", exclusive: bool = False) -> PromotionGroupDefined:
    return PromotionGroupDefined(event_id=f"g-{group_id}", occurred_at=PUBLISHED, source_node="head-office",
                                 group_id=group_id, version=1, rank=rank, mode=mode,  # type: ignore[arg-type]
                                 exclusive=exclusive)


def basket(*lines: tuple[str, int], shipping: int = 0, codes: Sequence[str] = ()) -> Basket:
    """Lines numbered from 1 in the order given: (sku, quantity)."""
    return Basket("B-1", tuple(BasketLine(i, sku, q) for i, (sku, q) in enumerate(lines, start=1)), shipping,
                  tuple(codes))


def context(**fields: Any) -> PricingContext:
    return PricingContext(**({"at": AT, "channel": "store", "node": "store-1"} | fields))


def lease(account: str, remaining: int, node: str = "chain", lease_id: str = "L-1") -> Lease:
    return Lease(lease_id, account, node, remaining)
