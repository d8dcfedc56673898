"""The synthetic price book and basket stream bench.pricing times: seeded, the same every run.

5,000 SKUs over 50 categories (2 % not promotable) at 0.99 to 29.99 with base prices, some
store, web and member (tier `gold`) prices; 200 active promotions of every reward kind in four
groups (`items` stack, `deals` best, `basket` first_match, `vip` exclusive), ~10 % behind
coupons, some with budgets. Most name 8 SKUs, one in ten a category, seven none (basket-wide:
shipping and order discounts), so about a quarter of the SKUs are on promotion, as in a
supermarket week. 10-line baskets at 20 stores over three channels, a fifth of them members,
one in ten with a valid coupon code and one in fifty with an unknown one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.pricing.basket import Basket, BasketLine, PricingContext
from domain.pricing.book import PriceBook
from streams.pricing import (
    BookEvent,
    Budget,
    BundlePart,
    Conditions,
    Coupon,
    PriceChanged,
    ProductDescribed,
    PromotionDefined,
    PromotionGroupDefined,
    Reward,
)

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)
SKUS, CATEGORIES, NODES, PROMOTIONS = 5_000, 50, 20, 200
GROUPS = (("items", 10, "stack", False), ("deals", 20, "best", False), ("basket", 30, "first_match", False),
          ("vip", 40, "stack", True))
CODES = [f"CODE{i:03d}" for i in range(PROMOTIONS)]


@dataclass(frozen=True)
class Workload:
    book: PriceBook
    baskets: list[tuple[Basket, PricingContext]]
    lines: int


def workload(baskets: int, lines: int = 10, seed: int = 7) -> Workload:
    rng = random.Random(seed)
    events = book_events(rng)
    book = PriceBook()
    for offset, event in enumerate(events):
        book.apply(event, offset)
    return Workload(book, [_basket(rng, i, lines) for i in range(baskets)], lines)


def book_events(rng: random.Random) -> list[BookEvent]:
    """Every record of the book, in the order a worker would read them (what bench.pricing_http publishes)."""
    return catalogue(rng) + [_group(*g) for g in GROUPS] + [_promotion(rng, i) for i in range(PROMOTIONS)]


def sku(i: int) -> str:
    return f"SKU-{i:05d}"


def category(i: int) -> str:
    return f"cat-{i:02d}"


def catalogue(rng: random.Random) -> list[BookEvent]:
    out: list[BookEvent] = []
    since = T0 - timedelta(days=90)
    for i in range(SKUS):
        cents = rng.randint(99, 2_999)
        out.append(_price(sku(i), cents, None, since))
        out.append(ProductDescribed(event_id=f"d-{i}", occurred_at=since, source_node="head-office", sku=sku(i),
                                    category=category(rng.randrange(CATEGORIES)), promotable=rng.random() > 0.02))
        draw = rng.random()
        if draw < 0.05:
            out.append(_price(sku(i), cents - cents // 10, f"node:store-{rng.randrange(NODES):02d}", since))
        elif draw < 0.15:
            out.append(_price(sku(i), cents + 50, "channel:web", since))
        elif draw < 0.25:
            out.append(_price(sku(i), cents - cents // 20, "tier:gold", since))
        if draw > 0.97:  # a price change later today: not in force yet for most baskets
            out.append(_price(sku(i), cents + 100, None, T0 + timedelta(hours=6)))
    return out


def _price(s: str, cents: int, list_id: str | None, at: datetime) -> PriceChanged:
    return PriceChanged(event_id=f"p-{s}-{list_id or 'base'}-{at:%j%H}".replace(":", "-"), occurred_at=at,
                        source_node="head-office", sku=s, price_cents=cents, effective_from=at, price_list=list_id)


def _group(group_id: str, rank: int, mode: str, exclusive: bool) -> PromotionGroupDefined:
    return PromotionGroupDefined(event_id=f"g-{group_id}", occurred_at=T0 - timedelta(days=30),
                                 source_node="head-office", group_id=group_id, version=1, rank=rank,
                                 mode=mode, exclusive=exclusive)  # type: ignore[arg-type]


def _promotion(rng: random.Random, i: int) -> PromotionDefined:
    group = "items" if i < 110 else "deals" if i < 150 else "basket" if i < 180 else "vip"
    conditions, reward = _shape(rng, group)
    coupon = Coupon(codes=[CODES[i]], uses_total=10_000 if i % 2 else None) if i % 10 == 3 else None
    budget = None
    if i % 9 == 4:
        budget = Budget(money_cents=5_000_000, scope="global", period="day")
    elif i % 23 == 5:
        budget = Budget(count=500, scope="store", period="week")
    elif i % 37 == 6:
        budget = Budget(count=2, scope="customer")
    return PromotionDefined(
        event_id=f"pr-{i}", occurred_at=T0 - timedelta(days=7), source_node="head-office",
        promotion_id=f"PROMO-{i:03d}", version=1, name=f"promotion {i}", starts_at=T0 - timedelta(days=7),
        ends_at=T0 + timedelta(days=7), conditions=conditions, reward=reward, group=group,
        priority=rng.randint(-5, 5), coupon=coupon, budget=budget)


def _items(rng: random.Random, skus: int = 8) -> Conditions:
    if rng.random() < 0.1:
        return Conditions(categories=[category(rng.randrange(CATEGORIES))])
    return Conditions(skus=sorted({sku(rng.randrange(SKUS)) for _ in range(skus)}))


def _shape(rng: random.Random, group: str) -> tuple[Conditions, Reward]:
    if group == "items":
        kind = rng.choice(["percent_off", "amount_off", "fixed_price", "buy_x_get_y"])
        return _items(rng), _reward(rng, kind)
    if group == "deals":
        if rng.random() < 0.2:
            parts = [BundlePart(skus=_items(rng, 4).skus or [sku(rng.randrange(SKUS))], quantity=1) for _ in range(2)]
            return Conditions(), Reward(kind="bundle_price", price_cents=rng.randint(500, 3_000), bundle=parts)
        return _items(rng), _reward(rng, rng.choice(["percent_off", "buy_x_get_y"]))
    if group == "basket":
        return _basket_wide(rng)
    return Conditions(skus=_items(rng, 30).skus or [sku(0)], tiers=["gold"]), Reward(
        kind="percent_off", percent=rng.choice([20, 25, 30]))


def _reward(rng: random.Random, kind: str) -> Reward:
    match kind:
        case "percent_off":
            return Reward(kind=kind, percent=rng.choice([5, 10, 15, 20, 30]))
        case "amount_off":
            return Reward(kind=kind, amount_cents=rng.choice([50, 100, 200]), max_applications=rng.choice([None, 2]))
        case "fixed_price":
            return Reward(kind=kind, price_cents=rng.randint(99, 2_000))
    return Reward(kind="buy_x_get_y", buy=rng.choice([1, 2]), get=1, percent=rng.choice([50, 100]))


def _basket_wide(rng: random.Random) -> tuple[Conditions, Reward]:
    draw = rng.random()
    if draw < 0.25:
        return Conditions(categories=[category(rng.randrange(CATEGORIES))]), Reward(
            kind="spend_x_get_y", target="order", threshold_cents=rng.choice([2_000, 5_000]), amount_cents=500)
    if draw < 0.4:
        return Conditions(min_basket_cents=rng.choice([5_000, 10_000, 15_000]), channels=["web", "app"]), Reward(
            kind="amount_off", target="shipping", amount_cents=495)
    if draw < 0.9:
        return _items(rng), Reward(kind="bonus_points", points=rng.choice([0, 50]), points_per_unit=10)
    return Conditions(min_basket_cents=rng.choice([15_000, 25_000])), Reward(kind="percent_off", target="order",
                                                                             percent=5)


def _basket(rng: random.Random, i: int, lines: int) -> tuple[Basket, PricingContext]:
    chosen = rng.sample(range(SKUS), lines)
    draw = rng.random()
    codes: tuple[str, ...] = (rng.choice(CODES[3::10]),) if draw < 0.1 else ("NOSUCHCODE",) if draw < 0.12 else ()
    channel = rng.choice(["store", "store", "web", "app"])
    basket = Basket(f"B-{i}", tuple(BasketLine(n, sku(s), rng.choice([1, 1, 1, 2, 3]))
                                    for n, s in enumerate(chosen, start=1)),
                    shipping_cents=0 if channel == "store" else 495, coupon_codes=codes)
    context = PricingContext(
        at=T0 + timedelta(seconds=i), channel=channel, node=f"store-{rng.randrange(NODES):02d}",
        tier="gold" if rng.random() < 0.2 else None,
        customer_id=f"C-{rng.randrange(100_000)}" if rng.random() < 0.6 else None)
    return basket, context
