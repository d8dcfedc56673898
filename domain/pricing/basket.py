"""A basket to price, the context it is priced in, and what pricing answers. Plain frozen dataclasses:
the pricing function builds thousands of them a second (pydantic is for the edges)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

REASONS = (
    "not_started", "ended", "draft", "channel", "node", "tier", "coupon_missing", "coupon_unknown",
    "no_qualifying_items", "below_threshold", "below_quantity", "stacked_out", "exclusive_lost",
    "budget_refused", "budget_exhausted", "coupon_used_up", "needs_customer", "needs_centre", "nothing_to_discount",
)


@dataclass(frozen=True, slots=True)
class BasketLine:
    line_no: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Basket:
    basket_id: str
    lines: tuple[BasketLine, ...]
    shipping_cents: int = 0
    coupon_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lease:
    """A slice of a budget account leased to a store in advance, for offline pricing."""

    lease_id: str
    account: str
    node: str
    remaining: int


@dataclass(frozen=True, slots=True)
class PricingContext:
    """Everything besides the basket and the book that pricing depends on (the clock included).

    `refused`: promotions whose budget or coupon hold the authority refused (price again without
    them). `offline`: a till without the centre; a budgeted promotion then applies only when
    `leases` cover it. `used_codes`: codes this customer or till already spent (offline checks)."""

    at: datetime
    channel: str  # web, app, store
    node: str
    currency: str = "EUR"
    tier: str | None = None
    region: str | None = None
    customer_id: str | None = None
    refused: frozenset[str] = frozenset()
    offline: bool = False
    leases: tuple[Lease, ...] = ()
    used_codes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PriceShare:
    promotion_id: str
    discount_cents: int
    bonus_points: int = 0


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_no: int
    sku: str
    quantity: int
    unit_price_cents: int  # the price list's price
    price_list: str  # which list it came from (base, node:..., tier:...)
    gross_cents: int
    discount_cents: int
    net_cents: int
    bonus_points: int
    shares: tuple[PriceShare, ...] = ()


@dataclass(frozen=True, slots=True)
class BudgetNeed:
    """A budget or coupon account a promotion draws on: hold (online) or spend from a lease (offline)."""

    promotion_id: str
    account: str  # BUD-... SKU
    node: str
    kind: str  # money, count, coupon
    amount: int
    limit: int  # the account's limit at the promotion's version (what opening it receives)
    lease_id: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedPromotion:
    promotion_id: str
    version: int
    kind: str
    group: str
    discount_cents: int  # off the lines (items and order); the shipping discount is apart
    bonus_points: int
    line_shares: tuple[tuple[int, int, int], ...]  # (line_no, discount cents, bonus points)
    shipping_discount_cents: int = 0
    needs: tuple[BudgetNeed, ...] = ()


@dataclass(frozen=True, slots=True)
class RejectedPromotion:
    promotion_id: str
    reason: str  # one of REASONS
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PricedBasket:
    basket_id: str
    snapshot_version: int
    currency: str
    lines: tuple[PricedLine, ...]
    applied: tuple[AppliedPromotion, ...]
    rejected: tuple[RejectedPromotion, ...]
    subtotal_cents: int  # sum of gross
    discount_cents: int  # items and order discounts (shipping apart)
    shipping_cents: int  # after its discounts
    total_cents: int  # subtotal - discount + shipping
    bonus_points: int
    unknown_skus: tuple[str, ...] = field(default=())  # no price on any list: not priced, not charged

    @property
    def needs(self) -> tuple[BudgetNeed, ...]:
        return tuple(n for a in self.applied for n in a.needs)
