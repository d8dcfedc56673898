"""How a priced basket is stamped, redeemed, given back and checked: the pricing stage's events.

A till or the web stamps each sale or order with the price book version it priced with and
the promotions it applied (`PricingStamp`). The router turns sales, orders, returns, voids and
cancellations into redemption commands keyed by the purchase (`pricing.redemptions`); the
`settle_promotions` stage commits the budget holds, gives budget back on returns and
cancellations, re-prices every till sale and reports each difference (`PricingVariance`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Record, Sku, UtcDatetime
from streams.pricing import Channel, CouponCode, Currency

AccountKind = Literal["money", "count", "coupon"]


class BudgetUse(Record):
    """What one promotion took from one budget account: online through a hold placed at
    checkout (`hold_id`), offline from a lease its store took in advance (`lease_id`)."""

    account: Sku  # BUD-...: a reserved SKU of the stock authority (domain/pricing/budgets.py)
    node: NodeId
    kind: AccountKind
    amount: int = Field(ge=1, le=100_000)
    hold_id: Id | None = None
    lease_id: Id | None = None

    @model_validator(mode="after")
    def _one_source(self) -> BudgetUse:
        if (self.hold_id is None) == (self.lease_id is None):
            raise ValueError("a budget use names its hold_id (online) or its lease_id (offline), one of them")
        return self


class LineShare(Record):
    line_no: int = Field(ge=1, le=1000)
    discount_cents: Cents = 0
    bonus_points: int = Field(default=0, ge=0)


class StampedPromotion(Record):
    """A promotion applied to the basket: its discount spread over the lines, and its budget uses."""

    promotion_id: Id
    version: int = Field(ge=1)
    discount_cents: Cents = 0
    bonus_points: int = Field(default=0, ge=0)
    lines: list[LineShare] = Field(default_factory=list, max_length=500)
    budget: list[BudgetUse] = Field(default_factory=list, max_length=20)


class PricingStamp(Record):
    """What priced a sale or order: the book version, the context, what applied."""

    basket_id: Id
    snapshot_version: int = Field(ge=0)
    channel: Channel
    tier: str | None = Field(default=None, max_length=20)
    customer_id: Id | None = None  # the (pseudonymous) customer id the checkout priced for
    region: str | None = Field(default=None, max_length=40)  # the store's price region, if it has one
    currency: Currency = "EUR"
    coupon_codes: list[CouponCode] = Field(default_factory=list, max_length=10)
    offline: bool = False
    promotions: list[StampedPromotion] = Field(default_factory=list, max_length=200)


class RedeemedLine(Record):
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int = Field(gt=0, le=100_000)
    unit_price_cents: Cents
    discount_cents: Cents = 0
    price_overridden: bool = False


class RedeemPromotions(Event):
    """A till sale or an online order, as the pricing stage needs it (every till sale, stamped
    or not, is re-priced; only stamped ones redeem)."""

    type: Literal["redemption.redeem"] = "redemption.redeem"
    purchase_key: Id  # receipt id of a till sale, order id of an online order
    channel: Channel
    node: NodeId
    terminal_id: Id | None = None
    cashier_id: Id | None = None
    customer_id: Id | None = None
    lines: list[RedeemedLine] = Field(min_length=1, max_length=500)
    pricing: PricingStamp | None = None


class ReturnRedemption(Event):
    """Units of a purchase came back, or part of an order was cancelled: its budget goes back in
    proportion to the discount those units had (a count or coupon use when nothing is left)."""

    type: Literal["redemption.return"] = "redemption.return"
    purchase_key: Id
    cause: Literal["return", "void", "cancellation"]
    cause_id: Id
    lines: list[tuple[Sku, int]] = Field(min_length=1, max_length=500)  # (sku, units), matched first line first


RedemptionCommand = RedeemPromotions | ReturnRedemption


class PromotionUsed(Event):
    """A promotion's use booked or given back, once: what the budget views add up."""

    type: Literal["promotion.used"] = "promotion.used"
    purchase_key: Id
    promotion_id: Id
    version: int
    kind: Literal["redeemed", "returned"]
    channel: Channel
    node: NodeId
    customer_id: Id | None = None
    discount_cents: int  # negative when given back
    bonus_points: int
    uses: int  # +1 redeemed, -1 when a return or cancellation gave the whole use back, else 0
    offline: bool = False
    snapshot_version: int


class PricingVariance(Event):
    """A till charged other than the centre's price for a line, re-priced with the book as it
    stood when the sale happened. `variance_cents` < 0: the customer paid less."""

    type: Literal["pricing.variance"] = "pricing.variance"
    receipt_id: Id
    store: NodeId
    terminal_id: Id | None = None
    cashier_id: Id | None = None
    line_no: int = Field(ge=1, le=1000)
    sku: Sku
    quantity: int
    charged_cents: int  # the line's net as charged
    expected_cents: int  # the line's net as the centre prices it
    variance_cents: int
    charged_unit_price_cents: int
    expected_unit_price_cents: int
    till_snapshot_version: int | None  # None: the sale carried no stamp
    centre_snapshot_version: int
    cause: Literal["price_override", "stale_snapshot", "unstamped", "unexplained"]


class BasketPriced(Event):
    """A basket priced over HTTP at checkout, with the budget holds it placed and their answers."""

    type: Literal["basket.priced"] = "basket.priced"
    basket_id: Id
    channel: Channel
    node: NodeId
    customer_id: Id | None = None
    snapshot_version: int
    lines: int
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    bonus_points: int
    applied: list[str] = Field(default_factory=list)  # promotion ids
    rejected: list[tuple[str, str]] = Field(default_factory=list)  # (promotion id, reason)
    holds: list[tuple[str, str, int, str]] = Field(default_factory=list)  # (hold id, account, amount, answer)
    at: UtcDatetime | None = None
