"""A small price book for the pricing integration tests: prices, products, promotions with a coupon and budgets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from streams.base import Event
from streams.pricing import (
    Budget,
    Conditions,
    Coupon,
    PriceChanged,
    ProductDescribed,
    PromotionDefined,
    PromotionGroupDefined,
    Reward,
)
from streams.topics import PRICING_CHANGES
from tests.integration.kafka_io import producer

SKUS = [f"SKU-P{n:03d}" for n in range(1, 11)]  # 10.00, 11.00, ... 19.00; SKU-P001..5 "shoes", the rest "bags"


def book(now: datetime, coupon_uses: int = 100, budget_cents: int = 50_000) -> list[Event]:
    since = now - timedelta(days=1)
    base: dict[str, Any] = {"occurred_at": since, "source_node": "head-office"}
    out: list[Event] = []
    for n, sku in enumerate(SKUS):
        out.append(ProductDescribed(event_id=f"prod-{sku}", sku=sku, category="shoes" if n < 5 else "bags", **base))
        out.append(PriceChanged(event_id=f"price-{sku}", sku=sku, price_cents=1000 + 100 * n, effective_from=since,
                                **base))
    out.append(PriceChanged(event_id="price-member", sku=SKUS[0], price_cents=900, effective_from=since,
                            price_list="tier:gold", **base))
    window = {"starts_at": since, "ends_at": now + timedelta(days=30)}
    out += [
        PromotionGroupDefined(event_id="group-coupons", group_id="coupons", version=1, rank=50, mode="stack", **base),
        PromotionDefined(event_id="promo-shoes", promotion_id="SHOES10", version=1, name="10% off shoes",
                         conditions=Conditions(categories=["shoes"]), reward=Reward(kind="percent_off", percent=10),
                         budget=Budget(money_cents=budget_cents), **window, **base),
        PromotionDefined(event_id="promo-bags", promotion_id="BAGS2FOR1", version=1, name="buy 1 bag get 1 half price",
                         conditions=Conditions(categories=["bags"]),
                         reward=Reward(kind="buy_x_get_y", buy=1, get=1, percent=50), **window, **base),
        PromotionDefined(event_id="promo-coupon", promotion_id="WELCOME", version=1, name="2.00 off with WELCOME",
                         group="coupons", reward=Reward(kind="amount_off", target="order", amount_cents=200),
                         coupon=Coupon(codes=["WELCOME"], uses_total=coupon_uses), **window, **base),
        PromotionDefined(event_id="promo-points", promotion_id="BONUS50", version=1, name="50 bonus points on bags",
                         conditions=Conditions(categories=["bags"]), reward=Reward(kind="bonus_points", points=50),
                         **window, **base),
    ]
    return out


def publish_book(bootstrap: str, prefix: str, events: list[Event]) -> None:
    from streams.codec import encode
    p = producer(bootstrap)
    for event in events:
        p.send(f"{prefix}{PRICING_CHANGES.name}", key=PRICING_CHANGES.key_for(event), value=encode(event))
    p.flush()
