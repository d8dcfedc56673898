"""Pricing events as the book, the settle stage and checkout make them, dated from a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from streams.pos import PosSale, SaleLine, Tender
from streams.pricing import Budget, Conditions, ProductDescribed, PromotionDefined, Reward
from streams.redemptions import (
    BasketPriced,
    BudgetUse,
    LineShare,
    PricingStamp,
    PricingVariance,
    PromotionUsed,
    StampedPromotion,
)

AT = datetime(2026, 11, 26, 10, tzinfo=UTC)  # the test clock: every moment is relative to it


def days(n: float) -> datetime:
    return AT + timedelta(days=n)


def promotion(promotion_id: str = "promo-1", version: int = 1, *, starts: float = 0, ends: float = 7,
              skus: tuple[str, ...] = ("SKU-001",), categories: tuple[str, ...] = (), budget: Budget | None = None,
              status: str = "active", percent: int = 20, published: float = -1, **rest: Any) -> PromotionDefined:
    return PromotionDefined(
        event_id=f"pd-{promotion_id}-{version}", occurred_at=days(published), source_node="head-office",
        promotion_id=promotion_id, version=version, name=f"{promotion_id} v{version}", status=status,  # type: ignore[arg-type]
        starts_at=days(starts), ends_at=days(ends),
        conditions=Conditions(skus=list(skus), categories=list(categories)),
        reward=Reward(kind="percent_off", percent=percent), budget=budget, **rest,
    )


def used(n: int, promotion_id: str = "promo-1", *, at: float = 0, kind: str = "redeemed", discount: int = 200,
         uses: int = 1, node: str = "st-001", channel: str = "store", purchase: str | None = None,
         customer: str | None = None, points: int = 0) -> PromotionUsed:
    return PromotionUsed(
        event_id=f"pu-{n}", occurred_at=days(at), source_node=node, purchase_key=purchase or f"r-{n}",
        promotion_id=promotion_id, version=1, kind=kind, channel=channel, node=node,  # type: ignore[arg-type]
        customer_id=customer, discount_cents=discount, bonus_points=points, uses=uses, snapshot_version=10,
    )


def variance(n: int, store: str = "st-001", cause: str = "stale_snapshot", *, till: int | None = 8,
             centre: int = 10, charged: int = 900, expected: int = 1_000,
             receipt: str | None = None) -> PricingVariance:
    return PricingVariance(
        event_id=f"pv-{n}", occurred_at=days(0), source_node=store, receipt_id=receipt or f"r-{n}", store=store,
        line_no=1, sku="SKU-001", quantity=1, charged_cents=charged, expected_cents=expected,
        variance_cents=charged - expected, charged_unit_price_cents=charged, expected_unit_price_cents=expected,
        till_snapshot_version=till, centre_snapshot_version=centre, cause=cause,  # type: ignore[arg-type]
    )


def basket(n: int, applied: list[str], rejected: list[tuple[str, str]] | None = None, *, at: float = 0,
           holds: list[tuple[str, str, int, str]] | None = None) -> BasketPriced:
    return BasketPriced(
        event_id=f"bp-{n}", occurred_at=days(at), source_node="web", basket_id=f"b-{n}", channel="web",
        node="wh-01", snapshot_version=10, lines=2, subtotal_cents=2_000, discount_cents=400, total_cents=1_600,
        bonus_points=0, applied=applied, rejected=rejected or [], holds=holds or [], at=days(at),
    )


def sale(n: int, sku: str, quantity: int, at: float, node: str = "st-001", pricing: PricingStamp | None = None,
         receipt: str | None = None) -> PosSale:
    line = SaleLine(line_no=1, sku=sku, quantity=quantity, unit_price_cents=1_000)
    return PosSale(
        event_id=f"s-{n}", occurred_at=days(at), source_node=node, receipt_id=receipt or f"rc-{n}", terminal_id="t1",
        cashier_id="c1", lines=[line], tenders=[Tender(method="card", amount_cents=quantity * 1_000)], pricing=pricing,
    )


def stamped(promotion_id: str = "promo-1", discount: int = 200, *, points: int = 0, holds: int = 0,
            leases: int = 0, version: int = 1) -> StampedPromotion:
    """A promotion as a stamp carries it: its share of line 1, and `holds` held or `leases` leased budget uses."""
    uses = [BudgetUse(account=f"BUD-000000000000000{n}-N", node="chain", kind="count", amount=1,
                      hold_id=f"b/1/{n}/1" if n < holds else None, lease_id=None if n < holds else f"L-{n}")
            for n in range(holds + leases)]
    return StampedPromotion(promotion_id=promotion_id, version=version, discount_cents=discount, bonus_points=points,
                            lines=[LineShare(line_no=1, discount_cents=discount, bonus_points=points)], budget=uses)


def stamp(*promotions: StampedPromotion, version: int = 10, channel: str = "store", tier: str | None = None,
          customer: str | None = None, codes: tuple[str, ...] = (), offline: bool = False, region: str | None = None,
          currency: str = "EUR", basket_id: str = "b-1") -> PricingStamp:
    return PricingStamp(basket_id=basket_id, snapshot_version=version, channel=channel, tier=tier,  # type: ignore[arg-type]
                        customer_id=customer, region=region, currency=currency, coupon_codes=list(codes),  # type: ignore[arg-type]
                        offline=offline, promotions=list(promotions))


def described(sku: str, category: str) -> ProductDescribed:
    return ProductDescribed(event_id=f"pr-{sku}", occurred_at=days(-30), source_node="head-office", sku=sku,
                            category=category)
