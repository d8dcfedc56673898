"""A priced basket as JSON and as the stamp a sale carries: one rendering for the worker and the till. Pure."""

from __future__ import annotations

import re
from typing import Any

from domain.pricing.basket import Basket, BasketLine, Lease, PricedBasket, PricingContext
from streams.redemptions import BudgetUse, LineShare, PricingStamp, StampedPromotion

BASKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$")


def basket_from(body: dict[str, Any]) -> tuple[Basket, dict[str, Any]]:
    """The basket in a request body (lines as {line_no, sku, quantity}); the rest of the body."""
    lines = tuple(BasketLine(int(x["line_no"]), str(x["sku"]), int(x["quantity"])) for x in body["lines"])
    if not lines or len(lines) > 500 or any(x.quantity <= 0 or x.quantity > 100_000 for x in lines):
        raise ValueError("a basket has 1 to 500 lines, each of 1 to 100000 units")
    if len({x.line_no for x in lines}) != len(lines):
        raise ValueError("line_no must be unique within a basket")
    if not BASKET_ID.match(str(body["basket_id"])):
        raise ValueError("basket_id: 1 to 64 letters, digits and _.:@- (it names the basket's holds)")
    basket = Basket(basket_id=str(body["basket_id"]), lines=lines, shipping_cents=int(body.get("shipping_cents", 0)),
                    coupon_codes=tuple(str(c) for c in body.get("coupon_codes", ())))
    return basket, {k: v for k, v in body.items() if k not in ("basket_id", "lines", "shipping_cents", "coupon_codes")}


def as_json(priced: PricedBasket) -> dict[str, Any]:
    return {
        "basket_id": priced.basket_id, "snapshot_version": priced.snapshot_version, "currency": priced.currency,
        "subtotal_cents": priced.subtotal_cents, "discount_cents": priced.discount_cents,
        "shipping_cents": priced.shipping_cents, "total_cents": priced.total_cents,
        "bonus_points": priced.bonus_points, "unknown_skus": list(priced.unknown_skus),
        "lines": [{
            "line_no": x.line_no, "sku": x.sku, "quantity": x.quantity, "unit_price_cents": x.unit_price_cents,
            "price_list": x.price_list, "gross_cents": x.gross_cents, "discount_cents": x.discount_cents,
            "net_cents": x.net_cents, "bonus_points": x.bonus_points,
            "promotions": [{"promotion_id": s.promotion_id, "discount_cents": s.discount_cents,
                            "bonus_points": s.bonus_points} for s in x.shares],
        } for x in priced.lines],
        "applied": [{
            "promotion_id": a.promotion_id, "version": a.version, "kind": a.kind, "group": a.group,
            "discount_cents": a.discount_cents, "shipping_discount_cents": a.shipping_discount_cents,
            "bonus_points": a.bonus_points,
            "budget": [{"account": n.account, "node": n.node, "kind": n.kind, "amount": n.amount, "limit": n.limit}
                       for n in a.needs],
        } for a in priced.applied],
        "rejected": [{"promotion_id": r.promotion_id, "reason": r.reason, "detail": r.detail} for r in priced.rejected],
    }


def stamp_for(priced: PricedBasket, context: PricingContext, coupon_codes: tuple[str, ...],
              holds: dict[tuple[str, str, str], str]) -> PricingStamp:
    """The stamp a sale carries. `holds`: (promotion, account, node) -> the hold id placed for it
    online; offline, each need names the lease it spends from."""
    return PricingStamp(
        basket_id=priced.basket_id, snapshot_version=priced.snapshot_version,
        channel=context.channel, tier=context.tier, customer_id=context.customer_id,  # type: ignore[arg-type]
        region=context.region, currency=context.currency,  # type: ignore[arg-type]
        coupon_codes=list(coupon_codes), offline=context.offline,
        promotions=[StampedPromotion(
            promotion_id=a.promotion_id, version=a.version, discount_cents=a.discount_cents + a.shipping_discount_cents,
            bonus_points=a.bonus_points,
            lines=[LineShare(line_no=n, discount_cents=d, bonus_points=p) for n, d, p in a.line_shares],
            budget=[BudgetUse(account=n.account, node=n.node, kind=n.kind, amount=n.amount,  # type: ignore[arg-type]
                              hold_id=holds.get((a.promotion_id, n.account, n.node)), lease_id=n.lease_id)
                    for n in a.needs],
        ) for a in priced.applied],
    )


def context_from(rest: dict[str, Any], at: Any, leases: tuple[Lease, ...] = ()) -> PricingContext:
    return PricingContext(
        at=at, channel=str(rest.get("channel", "web")), node=str(rest.get("node", "web")),
        currency=str(rest.get("currency", "EUR")), tier=rest.get("tier"), region=rest.get("region"),
        customer_id=rest.get("customer_id"), offline=bool(leases) or bool(rest.get("offline", False)), leases=leases,
    )
