"""Re-pricing a till sale at the centre: each line charged other than the book says. Pure.

The centre prices the sale's basket with the book as it stands, at the sale's time, in the
till's context (channel, node, tier, customer, coupons). A budgeted or coupon promotion the
till did not apply counts as refused (its budget was the till's to ask for, online or from its
lease), so the centre never expects a discount the till could not give. The cause:
`price_override` (the cashier keyed the price), `unstamped` (no pricing stamp: a till that does not
price with the book, whose unit price alone is compared, as its discounts cannot be), `stale_snapshot`
(the SKU's price or a promotion that can touch it changed at or after the till's book version),
else `unexplained`.
"""

from __future__ import annotations

from domain.pricing.basket import Basket, BasketLine, PricedBasket, PricingContext
from domain.pricing.book import PriceBook
from domain.pricing.price import price
from streams.pricing import PromotionDefined
from streams.redemptions import PricingVariance, RedeemPromotions


def variances(sale: RedeemPromotions, book: PriceBook) -> list[PricingVariance]:
    centre_priced = reprice(sale, book)
    by_line = {line.line_no: line for line in centre_priced.lines}
    out = []
    for line in sale.lines:
        centre = by_line.get(line.line_no)
        if centre is None:  # a SKU the book has no price for: nothing to compare with
            continue
        charged = line.quantity * line.unit_price_cents - line.discount_cents
        expected = centre.net_cents
        if sale.pricing is None:  # a till that does not price with the book: only its unit price can be judged
            expected = charged + line.quantity * (centre.unit_price_cents - line.unit_price_cents)
        if charged == expected:
            continue
        out.append(PricingVariance(
            event_id=f"{sale.event_id}:variance:{line.line_no}"[:100], occurred_at=sale.occurred_at,
            source_node=sale.node, receipt_id=sale.purchase_key, store=sale.node, terminal_id=sale.terminal_id,
            cashier_id=sale.cashier_id, line_no=line.line_no, sku=line.sku, quantity=line.quantity,
            charged_cents=charged, expected_cents=expected, variance_cents=charged - expected,
            charged_unit_price_cents=line.unit_price_cents, expected_unit_price_cents=centre.unit_price_cents,
            till_snapshot_version=sale.pricing.snapshot_version if sale.pricing else None,
            centre_snapshot_version=book.version, cause=_cause(sale, line.sku, line.price_overridden, book),
        ))
    return out


def reprice(sale: RedeemPromotions, book: PriceBook) -> PricedBasket:
    stamp = sale.pricing
    basket = Basket(
        basket_id=sale.purchase_key,
        lines=tuple(BasketLine(line.line_no, line.sku, line.quantity) for line in sale.lines),
        coupon_codes=tuple(stamp.coupon_codes) if stamp else (),
    )
    context = PricingContext(
        at=sale.occurred_at, channel=sale.channel, node=sale.node, tier=stamp.tier if stamp else None,
        customer_id=stamp.customer_id if stamp else None,
    )
    priced = price(basket, context, book)
    stamped = {p.promotion_id for p in stamp.promotions} if stamp else set()
    refused = frozenset(a.promotion_id for a in priced.applied if a.needs and a.promotion_id not in stamped)
    if not refused:
        return priced
    return price(basket, PricingContext(
        at=context.at, channel=context.channel, node=context.node, tier=context.tier,
        customer_id=context.customer_id, refused=refused,
    ), book)


def _cause(sale: RedeemPromotions, sku: str, overridden: bool, book: PriceBook) -> str:
    if overridden:
        return "price_override"
    if sale.pricing is None:
        return "unstamped"
    version = sale.pricing.snapshot_version
    if book.changed.get(sku, -1) >= version:
        return "stale_snapshot"
    product = book.product(sku)
    category = product.category if product else None
    for promotions in book.promotions.values():
        latest = promotions[-1]
        if book.changed.get(latest.promotion_id, -1) >= version and _touches(latest, sku, category):
            return "stale_snapshot"
    return "unexplained"


def _touches(promo: PromotionDefined, sku: str, category: str | None) -> bool:
    c = promo.conditions
    if not c.skus and not c.categories:
        return True
    return sku in c.skus or (category is not None and category in c.categories)
