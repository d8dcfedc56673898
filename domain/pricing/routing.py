"""What the router makes of pricing and sales records: book entries and redemption commands. Pure."""

from __future__ import annotations

import hashlib

from domain.identity import purchase_key_of_sale
from domain.ids import derived_id
from streams.base import Event
from streams.orders import OrderCancelled, OrderPlaced
from streams.pos import PosReturn, PosSale, PosVoid
from streams.pricing import (
    BookEvent,
    Conditions,
    PriceChanged,
    ProductDescribed,
    PromotionChanged,
    PromotionDefined,
    PromotionGroupDefined,
    Reward,
)
from streams.redemptions import RedeemedLine, RedeemPromotions, RedemptionCommand, ReturnRedemption

ID_MAX = 160


def book_entries_for(event: Event) -> list[BookEvent]:
    """The price book entries a `pricing.changes` record becomes (itself, or the older promotion
    shape as a percent-off `PromotionDefined` in the built-in group `legacy`: the best one applies,
    as the first shape's percentages never stacked)."""
    if isinstance(event, PriceChanged | ProductDescribed | PromotionDefined | PromotionGroupDefined):
        return [event]
    if isinstance(event, PromotionChanged):
        return [PromotionDefined(
            event_id=event.event_id, occurred_at=event.occurred_at, source_node=event.source_node,
            promotion_id=event.promotion_id, version=int(event.occurred_at.timestamp() * 1000),
            name=event.promotion_id, status="active" if event.active else "ended",
            starts_at=event.starts_at, ends_at=event.ends_at, conditions=Conditions(skus=event.skus),
            reward=Reward(kind="percent_off", percent=event.percent_off), group="legacy",
        )]
    return []


def redemptions_for(event: Event) -> list[RedemptionCommand]:
    """Every till sale (to re-price, and redeem if stamped), stamped online orders, and the returns,
    voids and cancellations that may give budget back."""
    match event:
        case PosSale():
            return [RedeemPromotions(
                event_id=derived_id(event.event_id, "redeem"), occurred_at=event.occurred_at,
                source_node=event.source_node, purchase_key=till_purchase(event.source_node, event.receipt_id),
                channel="store", node=event.source_node, terminal_id=event.terminal_id, cashier_id=event.cashier_id,
                lines=_lines(event.lines), pricing=event.pricing,
            )]
        case OrderPlaced() if event.pricing is not None and event.pricing.promotions:
            node = event.fulfilment_node or event.pickup_node or event.source_node
            return [RedeemPromotions(
                event_id=derived_id(event.event_id, "redeem"), occurred_at=event.occurred_at,
                source_node=event.source_node, purchase_key=event.order_id, channel=event.channel, node=node,
                lines=_lines(event.lines), pricing=event.pricing,
            )]
        case PosReturn() if event.original_receipt_id is not None:
            key = till_purchase(event.original_node or event.source_node, event.original_receipt_id)
            return [_back(event, key, "return", event.return_id,
                          [(line.sku, line.quantity) for line in event.lines])]
        case PosVoid():
            return [_back(event, till_purchase(event.source_node, event.receipt_id), "void", event.event_id,
                          [(line.sku, line.quantity) for line in event.lines])]
        case OrderCancelled():
            return [_back(event, event.order_id, "cancellation", event.event_id,
                          [(line.sku, line.quantity) for line in event.lines])]
    return []


def till_purchase(store: str, receipt_id: str) -> str:
    """A till sale's purchase key: receipt ids are unique within a store only (as identity keys them);
    a digest when the two do not fit an id."""
    key = purchase_key_of_sale(store, receipt_id)
    return key if len(key) <= ID_MAX else f"{store}/d-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _lines(lines: list) -> list[RedeemedLine]:  # type: ignore[type-arg]
    return [RedeemedLine(line_no=x.line_no, sku=x.sku, quantity=x.quantity, unit_price_cents=x.unit_price_cents,
                         discount_cents=x.discount_cents, price_overridden=x.price_overridden) for x in lines]


def _back(event: Event, key: str, cause: str, cause_id: str, lines: list[tuple[str, int]]) -> ReturnRedemption:
    return ReturnRedemption(
        event_id=derived_id(event.event_id, "give-back"), occurred_at=event.occurred_at, source_node=event.source_node,
        purchase_key=key, cause=cause, cause_id=cause_id, lines=lines,  # type: ignore[arg-type]
    )
