"""Pricing's projections: the fact rows of a priced basket, a sale's or order's pricing stamp, a promotion use, a
pricing variance, and the price book's records (prices, promotion versions, products, groups). Pure;
`analytics.rows` dispatches to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.pricing.routing import till_purchase
from streams.orders import OrderPlaced
from streams.pos import PosSale
from streams.pricing import BookEvent, PriceChanged, ProductDescribed, PromotionDefined, PromotionGroupDefined, book_key
from streams.redemptions import BasketPriced, BudgetUse, PricingVariance, PromotionUsed

Row = dict[str, Any]
ENVELOPE = {"source_node", "schema_version", "type"}
CONTEXT = {"basket_id", "snapshot_version", "channel", "tier", "customer_id", "region", "currency", "coupon_codes",
           "offline"}


def basket(event: BasketPriced, projected_at: datetime) -> dict[str, list[Row]]:
    """One row for the basket, one per promotion it applied or rejected (the first reason kept)."""
    priced_at = event.at or event.occurred_at
    row = event.model_dump(exclude={*ENVELOPE, "applied", "rejected", "holds", "at"})
    priced = {
        **row, "promotions_applied": len(set(event.applied)), "promotions_rejected": len(event.rejected),
        "holds": len(event.holds), "holds_refused": sum(1 for *_, answer in event.holds if answer != "granted"),
        "priced_at": priced_at, "projected_at": projected_at,
    }
    shared = {"event_id": event.event_id, "basket_id": event.basket_id, "channel": event.channel, "node": event.node,
              "priced_at": priced_at, "occurred_at": event.occurred_at, "projected_at": projected_at}
    outcomes: list[tuple[str, str, str | None]] = [("applied", promotion_id, None) for promotion_id in event.applied]
    outcomes += [("rejected", promotion_id, reason) for promotion_id, reason in event.rejected]
    promotions = [{**shared, "promotion_id": promotion_id, "outcome": outcome, "reason": reason}
                  for outcome, promotion_id, reason in outcomes]
    return {"fct_priced_baskets": [priced], **({"fct_basket_promotions": promotions} if promotions else {})}


def stamp(event: PosSale | OrderPlaced, projected_at: datetime) -> dict[str, list[Row]]:
    """A stamped sale's or order's pricing: one row for the purchase, one per promotion it applied ({} unstamped).
    The purchase key is the pricing stage's (`fct_promotion_uses`), the event id the sales lines'."""
    pricing = event.pricing
    if pricing is None:
        return {}
    if isinstance(event, PosSale):
        purchase: Row = {"purchase_key": till_purchase(event.source_node, event.receipt_id), "node": event.source_node}
    else:
        purchase = {"purchase_key": event.order_id, "node": event.node}
    promotions = pricing.promotions
    moment = {"occurred_at": event.occurred_at, "projected_at": projected_at}
    sale = {
        "event_id": event.event_id, **purchase, "source_type": event.type,
        "document_id": event.receipt_id if isinstance(event, PosSale) else event.order_id,
        **pricing.model_dump(include=CONTEXT), "promotions": [p.promotion_id for p in promotions],
        "discount_cents": sum(p.discount_cents for p in promotions),
        "bonus_points": sum(p.bonus_points for p in promotions),
        "budget_uses": sum(len(p.budget) for p in promotions), **moment,
    }
    applied = [{
        "event_id": event.event_id, **purchase, "promotion_id": p.promotion_id, "version": p.version,
        "channel": pricing.channel, "discount_cents": p.discount_cents, "bonus_points": p.bonus_points,
        "lines": len(p.lines), "budget_uses": len(p.budget), "budget_via": _via(p.budget),
        "offline": pricing.offline, **moment,
    } for p in promotions]
    return {"fct_sale_pricing": [sale], **({"fct_sale_promotions": applied} if applied else {})}


def _via(uses: list[BudgetUse]) -> str | None:
    """How a promotion drew on its accounts: by checkout holds, store leases, both, or not at all."""
    held, leased = any(u.hold_id for u in uses), any(u.lease_id for u in uses)
    return {(True, False): "hold", (False, True): "lease", (True, True): "mixed"}.get((held, leased))


def use(event: PromotionUsed, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_promotion_uses": [{**event.model_dump(exclude=ENVELOPE), "projected_at": projected_at}]}


def variance(event: PricingVariance, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_pricing_variances": [{**event.model_dump(exclude=ENVELOPE), "projected_at": projected_at}]}


def book_entry(event: BookEvent, projected_at: datetime) -> Row:
    """The book record whole, for a replay to rebuild the book from."""
    return {"event_id": event.event_id, "entry_type": event.type, "book_key": book_key(event),
            "payload": event.model_dump_json(), "occurred_at": event.occurred_at, "projected_at": projected_at}


def price_change(event: PriceChanged, projected_at: datetime) -> dict[str, list[Row]]:
    row = event.model_dump(include={"event_id", "sku", "node", "price_cents", "effective_from", "occurred_at"})
    return {"fct_price_changes": [{**row, "projected_at": projected_at}],
            "fct_book_entries": [book_entry(event, projected_at)]}


def group(event: PromotionGroupDefined, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_book_entries": [book_entry(event, projected_at)]}


def promotion_version(event: PromotionDefined, projected_at: datetime) -> dict[str, list[Row]]:
    """The version with its conditions, reward, budget and coupon flattened into columns."""
    conditions, reward, budget, coupon = event.conditions, event.reward, event.budget, event.coupon
    return {"fct_book_entries": [book_entry(event, projected_at)], "fct_promotion_versions": [{
        "promotion_id": event.promotion_id, "version": event.version, "name": event.name, "status": event.status,
        "kind": reward.kind, "target": reward.target, "promotion_group": event.group, "priority": event.priority,
        "starts_at": event.starts_at, "ends_at": event.ends_at,
        **conditions.model_dump(include={"skus", "categories", "channels", "nodes", "tiers", "min_basket_cents",
                                         "min_quantity"}),
        **reward.model_dump(include={"percent", "amount_cents", "price_cents", "threshold_cents", "points",
                                     "points_per_unit"}),
        "budget_money_cents": budget.money_cents if budget else None,
        "budget_count": budget.count if budget else None,
        "budget_scope": budget.scope if budget else None,
        "budget_period": budget.period if budget else None,
        "coupon_codes": len(coupon.codes) if coupon else 0,
        "coupon_uses_total": coupon.uses_total if coupon else None,
        "coupon_uses_per_code": coupon.uses_per_code if coupon else None,
        "coupon_per_customer": coupon.per_customer if coupon else None,
        "event_id": event.event_id, "occurred_at": event.occurred_at, "projected_at": projected_at,
    }]}


def product(event: ProductDescribed, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_product_descriptions": [{**event.model_dump(exclude=ENVELOPE), "projected_at": projected_at}],
            "fct_book_entries": [book_entry(event, projected_at)]}
