"""What head office publishes about prices and promotions: the price book's events.

Head office publishes them to `pricing.changes`; the router copies each valid one onto the
compacted `pricing.book-entries` (one partition), which every worker and every till reads whole:
the book is the state those records build, and its `snapshot_version` is the offset after
the last record read. docs/pricing.md explains the rules, stacking, budgets and the offline model.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from streams.base import Cents, Event, Id, NodeId, Record, Sku, UtcDatetime

# `base` (chain-wide), `node:<node>`, `region:<region>`, `channel:<web|app|store>`, `tier:<tier>`.
PriceListId = Annotated[str, StringConstraints(pattern=r"^(base|(node|region|channel|tier):[a-z0-9][a-z0-9-]{0,39})$")]
Category = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
CouponCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{2,31}$")]
Channel = Literal["web", "app", "store"]
Currency = Literal["EUR", "CHF", "SEK", "GBP", "USD"]


class PriceChanged(Event):
    """The central price of a SKU on a price list from `effective_from`.

    `node` is the older way to name a store's own list: `node=X` is `price_list="node:X"`, and
    neither is `base`. Give one of them at most."""

    type: Literal["price.changed"] = "price.changed"
    sku: Sku
    price_cents: Cents
    effective_from: UtcDatetime
    node: NodeId | None = None
    price_list: PriceListId | None = None
    currency: Currency = "EUR"

    @model_validator(mode="after")
    def _one_list(self) -> PriceChanged:
        if self.node is not None and self.price_list is not None:
            raise ValueError("give node or price_list, not both")
        return self

    @property
    def list_id(self) -> str:
        if self.price_list is not None:
            return self.price_list
        return f"node:{self.node}" if self.node is not None else "base"


class ProductDescribed(Event):
    """A SKU's category (what category conditions match) and whether promotions may touch it."""

    type: Literal["product.described"] = "product.described"
    sku: Sku
    category: Category
    promotable: bool = True  # gift cards, tobacco: never discounted


class PromotionChanged(Event):
    """The first promotion shape: a percentage off the listed SKUs in a window. The router books it
    as a `PromotionDefined` of kind `percent_off` in the built-in group `legacy`, mode `best`
    (docs/pricing.md)."""

    type: Literal["promotion.changed"] = "promotion.changed"
    promotion_id: Id
    skus: list[Sku] = Field(min_length=1, max_length=5000)
    percent_off: int = Field(ge=1, le=90)
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    active: bool = True

    @model_validator(mode="after")
    def _window(self) -> PromotionChanged:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class Conditions(Record):
    """When a promotion applies; an empty list means any. Items qualify by SKU or category."""

    skus: list[Sku] = Field(default_factory=list, max_length=5000)
    categories: list[Category] = Field(default_factory=list, max_length=200)
    channels: list[Channel] = Field(default_factory=list)
    nodes: list[NodeId] = Field(default_factory=list, max_length=1000)
    tiers: list[str] = Field(default_factory=list, max_length=20)
    min_basket_cents: Cents = 0  # the basket's subtotal before this group's discounts
    min_quantity: int = Field(default=0, ge=0, le=1000)  # qualifying units in the basket


class BundlePart(Record):
    """One part of a bundle: `quantity` units from these SKUs or categories."""

    skus: list[Sku] = Field(default_factory=list, max_length=500)
    categories: list[Category] = Field(default_factory=list, max_length=50)
    quantity: int = Field(ge=1, le=100)


class Reward(Record):
    """What a promotion gives. `kind` picks the fields that matter:

    - `percent_off`: `percent` off the qualifying items, the order or shipping (`target`);
    - `amount_off`: `amount_cents` off each qualifying unit (`target=items`), or once off the order
      or shipping, spread over the qualifying lines by value;
    - `fixed_price`: each qualifying unit at `price_cents`;
    - `buy_x_get_y`: for every `buy` qualifying units, `get` more of them (the cheapest) at
      `percent` off (100: free);
    - `bundle_price`: each complete set of `bundle` parts for `price_cents` together;
    - `spend_x_get_y`: when the qualifying items reach `threshold_cents`, `amount_cents` off them
      (`target=items`) or off the order;
    - `bonus_points`: no discount; `points` per qualifying basket plus `points_per_unit` per unit,
      posted to the customer's wallet with the sale.
    """

    kind: Literal["percent_off", "amount_off", "fixed_price", "buy_x_get_y", "bundle_price", "spend_x_get_y",
                  "bonus_points"]
    target: Literal["items", "order", "shipping"] = "items"
    percent: int | None = Field(default=None, ge=1, le=100)
    amount_cents: Cents | None = None
    price_cents: Cents | None = None
    buy: int | None = Field(default=None, ge=1, le=100)
    get: int | None = Field(default=None, ge=1, le=100)
    bundle: list[BundlePart] = Field(default_factory=list, max_length=10)
    threshold_cents: Cents | None = None
    points: int = Field(default=0, ge=0, le=1_000_000)
    points_per_unit: int = Field(default=0, ge=0, le=10_000)
    max_applications: int | None = Field(default=None, ge=1, le=1000)  # per basket

    @model_validator(mode="after")
    def _complete(self) -> Reward:
        needs = {
            "percent_off": ("percent",), "amount_off": ("amount_cents",), "fixed_price": ("price_cents",),
            "buy_x_get_y": ("buy", "get", "percent"), "bundle_price": ("price_cents",),
            "spend_x_get_y": ("threshold_cents", "amount_cents"), "bonus_points": (),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} reward needs {', '.join(missing)}")
        if self.kind == "bundle_price" and not self.bundle:
            raise ValueError("a bundle_price reward needs its bundle parts")
        if self.kind == "bonus_points" and not (self.points or self.points_per_unit):
            raise ValueError("a bonus_points reward gives points or points_per_unit")
        if self.target == "shipping" and self.kind not in ("percent_off", "amount_off"):
            raise ValueError("only percent_off and amount_off can target shipping")
        return self


class Coupon(Record):
    """The codes that unlock a promotion. Single-use codes: many codes, `uses_per_code=1`;
    a multi-use code: one code, `uses_total`. `per_customer` needs a known customer."""

    codes: list[CouponCode] = Field(min_length=1, max_length=10_000)
    uses_total: int | None = Field(default=None, ge=1, le=10_000_000)
    uses_per_code: int | None = Field(default=None, ge=1, le=10_000_000)
    per_customer: int | None = Field(default=None, ge=1, le=1000)


class Budget(Record):
    """A promotion's limit: money (the discount given) and/or count (baskets it applied to), for
    the whole chain, each store, or each customer, per period (UTC day, ISO week, month) or in all."""

    money_cents: int | None = Field(default=None, ge=1, le=10_000_000_000)
    count: int | None = Field(default=None, ge=1, le=10_000_000)
    scope: Literal["global", "store", "customer"] = "global"
    period: Literal["all", "day", "week", "month"] = "all"

    @model_validator(mode="after")
    def _something(self) -> Budget:
        if self.money_cents is None and self.count is None:
            raise ValueError("a budget limits money_cents, count or both")
        return self


class PromotionDefined(Event):
    """A promotion, whole, at `version` (a higher version replaces it; the book keeps every version,
    so a sale is re-priced with the one in force when it happened). `draft` is never applied
    live, only by the promotion backtest; `ended` stops it."""

    type: Literal["promotion.defined"] = "promotion.defined"
    promotion_id: Id
    version: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=200)
    status: Literal["draft", "active", "ended"] = "active"
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    conditions: Conditions = Field(default_factory=Conditions)
    reward: Reward
    group: Id = "default"
    priority: int = Field(default=0, ge=-1000, le=1000)  # higher first within a group (first_match)
    coupon: Coupon | None = None
    budget: Budget | None = None

    @model_validator(mode="after")
    def _window(self) -> PromotionDefined:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PromotionGroupDefined(Event):
    """How a group's promotions combine. Groups apply in `rank` order (lower first), each on the
    prices the earlier ones left. `stack`: all apply; `first_match`: the highest priority that
    applies; `best`: the one that saves the customer most. An `exclusive` group's result is
    kept alone if it saves more than every other group together, else it is dropped."""

    type: Literal["promotion_group.defined"] = "promotion_group.defined"
    group_id: Id
    version: int = Field(ge=1)
    rank: int = Field(ge=0, le=1000)
    mode: Literal["stack", "first_match", "best"] = "stack"
    exclusive: bool = False


BookEvent = PriceChanged | ProductDescribed | PromotionDefined | PromotionGroupDefined


def book_key(event: BookEvent) -> str:
    """The compacted key: each effective-dated price and each version kept, a product's latest."""
    match event:
        case PriceChanged():
            return f"price/{event.list_id}/{event.sku}@{event.effective_from.isoformat()}"
        case ProductDescribed():
            return f"product/{event.sku}"
        case PromotionDefined():
            return f"promotion/{event.promotion_id}@{event.version}"
        case PromotionGroupDefined():
            return f"group/{event.group_id}@{event.version}"
    raise TypeError(f"not a price book event: {type(event).__name__}")
