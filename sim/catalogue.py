"""Head office's price book for a simulated day: product categories, promotion groups, promotions.

Everything is dated from the day's start and named after it, so a catalogue published for
another day never re-publishes a promotion version with other content.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

from streams.pricing import (
    Budget,
    BundlePart,
    Channel,
    Conditions,
    Coupon,
    ProductDescribed,
    PromotionDefined,
    PromotionGroupDefined,
    Reward,
)

HEAD_OFFICE = "head-office"
CATEGORIES = ("grocery", "household", "garden", "kitchen", "toys", "clothing", "electronics", "beauty")
# (group, rank, mode, exclusive): clearance first and only its best, then members' own prices
# (alone when they beat everything else), then coupons, then the everyday promotions.
GROUPS: tuple[tuple[str, int, Literal["stack", "first_match", "best"], bool], ...] = (
    ("clearance", 10, "best", False),
    ("member", 20, "best", True),
    ("coupons", 50, "stack", False),
    ("default", 100, "stack", False),
)
WEEK = timedelta(days=7)
ONLINE: tuple[Channel, ...] = ("web", "app")


def category(sku: str) -> str:
    """A SKU's category: fixed by the SKU alone, so every run and every reader agrees."""
    return CATEGORIES[zlib.crc32(sku.encode()) % len(CATEGORIES)]


def products(skus: Iterable[str], at: datetime) -> list[ProductDescribed]:
    return [
        ProductDescribed(event_id=f"catalogue-product-{sku}-{at:%y%m%d}", occurred_at=at, source_node=HEAD_OFFICE,
                         sku=sku, category=category(sku))
        for sku in skus
    ]


def groups(at: datetime) -> list[PromotionGroupDefined]:
    return [
        PromotionGroupDefined(event_id=f"catalogue-group-{group}-{at:%y%m%d}", occurred_at=at, source_node=HEAD_OFFICE,
                              group_id=group, version=1, rank=rank, mode=mode, exclusive=exclusive)
        for group, rank, mode, exclusive in GROUPS
    ]


def promotions(day_start: datetime) -> list[PromotionDefined]:
    """The day's promotions, one of each reward kind and limit, all published at `day_start`."""
    return [
        _promotion(day_start, "GARDEN15", "15% off garden", Conditions(categories=["garden"]),
                   Reward(kind="percent_off", percent=15)),
        _promotion(day_start, "ONLINE10OFF75", "10 euro off online orders of 75 euro or more",
                   Conditions(channels=list(ONLINE), min_basket_cents=7500),
                   Reward(kind="amount_off", target="order", amount_cents=1000)),
        _promotion(day_start, "TOYS3FOR2", "Toys: buy 2, get 1 free", Conditions(categories=["toys"]),
                   Reward(kind="buy_x_get_y", buy=2, get=1, percent=100, max_applications=3)),
        _promotion(day_start, "HOMEPAIR", "A kitchen and a household item for 49.99", Conditions(),
                   Reward(kind="bundle_price", price_cents=4999, bundle=[
                       BundlePart(categories=["kitchen"], quantity=1), BundlePart(categories=["household"], quantity=1),
                   ])),
        _promotion(day_start, "GROCERY50", "Spend 50 euro on groceries, 5 euro off them",
                   Conditions(categories=["grocery"]),
                   Reward(kind="spend_x_get_y", threshold_cents=5000, amount_cents=500)),
        _promotion(day_start, "POINTS-ELEC", "100 bonus points with electronics, 20 more per unit",
                   Conditions(categories=["electronics"]),
                   Reward(kind="bonus_points", points=100, points_per_unit=20)),
        _promotion(day_start, "GOLD-BEAUTY", "Gold members: 20% off beauty",
                   Conditions(categories=["beauty"], tiers=["gold"]), Reward(kind="percent_off", percent=20),
                   group="member"),
        _promotion(day_start, "WELCOME10", "10% off your first online order with WELCOME10",
                   Conditions(channels=list(ONLINE)), Reward(kind="percent_off", target="order", percent=10),
                   group="coupons", coupon=Coupon(codes=["WELCOME10"], uses_total=5000, per_customer=1)),
        _promotion(day_start, "CLEARANCE30", "Clearance: 30% off clothing while the budget lasts",
                   Conditions(categories=["clothing"]), Reward(kind="percent_off", percent=30), group="clearance",
                   budget=Budget(money_cents=250_000, count=500, scope="global", period="day")),
    ]


def _promotion(day_start: datetime, name: str, title: str, conditions: Conditions, reward: Reward,
               group: str = "default", coupon: Coupon | None = None, budget: Budget | None = None) -> PromotionDefined:
    """Version 1 of a promotion named for the day (UTC), running from the day before until a week on:
    its content depends on the date alone, whatever hour the day starts at."""
    midnight = day_start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    promotion_id = f"{name}-{midnight:%y%m%d}"
    return PromotionDefined(
        event_id=f"catalogue-promotion-{promotion_id}@1", occurred_at=day_start, source_node=HEAD_OFFICE,
        promotion_id=promotion_id, version=1, name=title, starts_at=midnight - timedelta(days=1),
        ends_at=midnight + WEEK, conditions=conditions, reward=reward, group=group, coupon=coupon, budget=budget,
    )
