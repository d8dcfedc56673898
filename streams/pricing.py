"""What head office publishes about prices and promotions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from streams.base import Cents, Event, Id, NodeId, Sku, UtcDatetime


class PriceChanged(Event):
    """The central price of a SKU from `effective_from`; `node` None means every node."""

    type: Literal["price.changed"] = "price.changed"
    sku: Sku
    price_cents: Cents
    effective_from: UtcDatetime
    node: NodeId | None = None


class PromotionChanged(Event):
    """A promotion created, changed or ended: a percentage off the listed SKUs in a window."""

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

