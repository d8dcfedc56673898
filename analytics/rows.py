"""Pure projections: which fact rows an event becomes. No DuckDB, no Kafka."""

from __future__ import annotations

import json
from datetime import datetime
from functools import singledispatch
from typing import Any

from analytics import audit_rows, fulfilment_rows, pricing_rows
from streams.audit import HttpRequestAudited
from streams.base import Event
from streams.customers import CustomersMerged, PurchaseRecorded
from streams.deadletter import DeadLetterNoticed
from streams.erasure import CustomerErased
from streams.fraud import FraudAlert
from streams.fulfilment import FulfilmentDecided, NodeDefined, StoreResponded, TransferSuggested
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged, StockChanged
from streams.loyalty import PointsPosted, TierChanged
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped, OrderStatusChanged
from streams.pos import PosReturn, PosSale
from streams.pricing import PriceChanged, ProductDescribed, PromotionDefined, PromotionGroupDefined
from streams.redemptions import BasketPriced, PricingVariance, PromotionUsed

Row = dict[str, Any]
DEAD_LETTER_COLUMNS = frozenset({  # a notice is a dead_letters row, field for field
    "dlq_topic", "dlq_partition", "dlq_offset", "source_topic", "source_partition", "source_offset", "reason",
    "consumer", "raw_bytes", "failed_at", "raw_sha256", "preview",
})
FACT_TABLES = (
    "fct_sales_lines", "fct_return_lines", "fct_stock_movements", "fct_order_status", "fct_loyalty_entries",
    "fct_tier_changes", "fct_customer_purchases", "fct_customer_merges", "fct_holds", "fct_fulfillment",
    "fct_availability", "fct_price_changes", "fct_fraud_alerts", "fct_fulfilment_decisions", "fct_fulfilment_shipments",
    "fct_node_versions", "fct_store_responses", "fct_transfer_suggestions", "fct_priced_baskets",
    "fct_basket_promotions", "fct_promotion_uses", "fct_pricing_variances", "fct_promotion_versions",
    "fct_product_descriptions", "fct_book_entries", "fct_sale_pricing", "fct_sale_promotions", "fct_customer_erasures",
    "fct_http_request",
)
# Statuses the order saga decides; shipped and picked_up come from the node's own event instead.
SAGA_MILESTONES = frozenset({
    "accepted", "rejected", "cancelled", "no_show", "hold_expired", "stock_conflict", "waiting",
})


def rows_for(event: Event, projected_at: datetime) -> dict[str, list[Row]]:
    """Rows per fact table; an event with no projection gives {}."""
    return _rows(event, projected_at)


@singledispatch
def _rows(event: Event, projected_at: datetime) -> dict[str, list[Row]]:
    return {}


@_rows.register
def _(event: PosSale, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_sales_lines": [
        _sale_line(event, line, "pos.sale", "store", event.receipt_id, event.source_node, None, projected_at)
        for line in event.lines
    ], **pricing_rows.stamp(event, projected_at)}


@_rows.register
def _(event: OrderPlaced, projected_at: datetime) -> dict[str, list[Row]]:
    placed = _milestone(
        event, event.order_id, "placed", event.node, projected_at, channel=event.channel,
        delivery=event.delivery, units=sum(line.quantity for line in event.lines), placed_at=event.occurred_at,
    )
    return {
        "fct_sales_lines": [
            _sale_line(
                event, line, "order.placed", event.channel, event.order_id, event.node, event.delivery,
                projected_at,
            )
            for line in event.lines
        ],
        "fct_fulfillment": [placed],
        **pricing_rows.stamp(event, projected_at),
    }


def _sale_line(
    event: PosSale | OrderPlaced, line: Any, source_type: str, channel: str, document_id: str, node: str | None,
    delivery: str | None, projected_at: datetime,
) -> Row:
    return {
        "event_id": event.event_id,
        "line_no": line.line_no,
        "source_type": source_type,
        "channel": channel,
        "document_id": document_id,
        "node": node,
        "delivery": delivery,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price_cents": line.unit_price_cents,
        "discount_cents": line.discount_cents,
        "net_cents": line.net_cents,
        "has_customer": event.customer is not None,
        "occurred_at": event.occurred_at,
        "projected_at": projected_at,
    }


@_rows.register
def _(event: DeadLetterNoticed, projected_at: datetime) -> dict[str, list[Row]]:
    return {"dead_letters": [event.model_dump(include=set(DEAD_LETTER_COLUMNS))]}


@_rows.register
def _(event: PosReturn, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_return_lines": [
        {
            "event_id": event.event_id,
            "line_no": line.line_no,
            "return_id": event.return_id,
            "node": event.source_node,
            "original_receipt_id": event.original_receipt_id,
            "original_node": event.original_node,
            "sku": line.sku,
            "quantity": line.quantity,
            "refund_cents": line.refund_cents,
            "condition": line.condition,
            "occurred_at": event.occurred_at,
            "projected_at": projected_at,
        }
        for line in event.lines
    ]}


@_rows.register
def _(event: StockChanged, projected_at: datetime) -> dict[str, list[Row]]:
    row = event.model_dump(exclude={"event_id", "source_node", "schema_version", "type"})
    row["projected_at"] = projected_at
    return {"fct_stock_movements": [row]}


@_rows.register
def _(event: OrderStatusChanged, projected_at: datetime) -> dict[str, list[Row]]:
    return {**_status_milestone(event, projected_at), "fct_order_status": [{
        "event_id": event.event_id,
        "order_id": event.order_id,
        "status": event.status,
        "reason": event.reason,
        "delivery": event.delivery,
        "fulfilment_node": event.fulfilment_node,
        "lines": len(event.lines),
        "units": sum(line.quantity for line in event.lines),
        "placed_at": event.placed_at,
        "occurred_at": event.occurred_at,
        "projected_at": projected_at,
        "nodes": list(event.nodes),
    }]}


@_rows.register
def _(event: PointsPosted, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_loyalty_entries": [
        {
            **entry.model_dump(),
            "customer_id": event.customer_id,
            "command_id": event.command_id,
            "occurred_at": event.occurred_at,
            "projected_at": projected_at,
        }
        for entry in event.entries
    ]}


@_rows.register
def _(event: TierChanged, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_tier_changes": [{**event.model_dump(exclude={"type", "occurred_at", "source_node", "schema_version"}),
                                  "projected_at": projected_at}]}


@_rows.register
def _(event: PurchaseRecorded, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_customer_purchases": [
        {
            "event_id": event.event_id, "line_no": line.line_no, "customer_id": event.customer_id, "kind": event.kind,
            "purchase_key": event.purchase_key, "source_event_id": event.source_event_id, "channel": event.channel,
            "node": event.node, "sku": line.sku, "quantity": line.quantity, "net_cents": line.net_cents,
            "occurred_at": event.occurred_at, "projected_at": projected_at,
        }
        for line in event.lines
    ]}


@_rows.register
def _(event: CustomersMerged, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_customer_merges": [{
        "event_id": event.event_id, "merged": event.merged, "merged_since": event.merged_since,
        "survivor": event.survivor, "survivor_since": event.survivor_since, "identifier": event.identifier,
        "occurred_at": event.occurred_at, "projected_at": projected_at,
    }]}


@_rows.register
def _(event: CustomerErased, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_customer_erasures": [{
        "event_id": event.event_id, "customer_id": event.customer_id, "linked": event.linked,
        "identifiers_forgotten": event.identifiers_forgotten, "request_event_id": event.request_event_id,
        "requested_at": event.requested_at, "occurred_at": event.occurred_at, "projected_at": projected_at,
    }]}


@_rows.register
def _(event: FraudAlert, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_fraud_alerts": [{
        "alert_id": event.alert_id,
        "rule": event.rule,
        "severity": event.severity,
        "entity_kind": event.entity_kind,
        "entity_id": event.entity_id,
        "window_start": event.window_start,
        "window_end": event.window_end,
        "summary": event.summary,
        "evidence": json.dumps(event.evidence, sort_keys=True),
        "raised_at": event.occurred_at,
        "projected_at": projected_at,
    }]}


@_rows.register
def _(event: OrderCancelled, projected_at: datetime) -> dict[str, list[Row]]:
    units = sum(line.quantity for line in event.lines)
    return {"fct_fulfillment": [
        _milestone(event, event.order_id, "lines_cancelled", event.fulfilment_node, projected_at, units=units,
                   reason=event.reason),
    ]}


@_rows.register
def _(event: OrderShipped, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_fulfillment": [
        _milestone(event, event.order_id, "shipped", event.fulfilment_node, projected_at, carrier=event.carrier),
    ]}


@_rows.register
def _(event: OrderPickedUp, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_fulfillment": [_milestone(event, event.order_id, "picked_up", event.fulfilment_node, projected_at)]}


def _status_milestone(event: OrderStatusChanged, projected_at: datetime) -> dict[str, list[Row]]:
    """A status the saga decided is a milestone too; shipped and picked up come from web.orders."""
    if event.status not in SAGA_MILESTONES:
        return {}
    return {"fct_fulfillment": [_milestone(
        event, event.order_id, event.status, event.fulfilment_node, projected_at, delivery=event.delivery,
        units=sum(line.quantity for line in event.lines), reason=event.reason, placed_at=event.placed_at,
    )]}


def _milestone(
    event: Event, order_id: str, milestone: str, node: str | None, projected_at: datetime, **known: Any
) -> Row:
    row: Row = dict.fromkeys(("channel", "delivery", "units", "reason", "carrier", "placed_at"))
    row.update(known)
    return {
        "event_id": event.event_id, "order_id": order_id, "milestone": milestone, "node": node, **row,
        "occurred_at": event.occurred_at, "projected_at": projected_at,
    }


@_rows.register
def _(event: HoldAnswered, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_holds": [{
        "event_id": event.event_id, "hold_id": event.hold_id, "order_id": event.order_id or None, "sku": event.sku,
        "node": event.node or None, "quantity": event.quantity, "answer": event.answer, "reason": event.reason,
        "atp_after": event.atp_after, "command_id": event.command_id, "occurred_at": event.occurred_at,
        "projected_at": projected_at,
    }]}


@_rows.register
def _(event: AvailabilityChanged, projected_at: datetime) -> dict[str, list[Row]]:
    row = event.model_dump(include={"event_id", "sku", "node", "on_hand", "held", "safety", "atp", "in_transit",
                                    "occurred_at"})
    return {"fct_availability": [{**row, "projected_at": projected_at}]}


# Fulfilment (analytics.fulfilment_rows); the network's cost tables and profiles are not projected.
_rows.register(FulfilmentDecided, fulfilment_rows.decision)
_rows.register(NodeDefined, fulfilment_rows.node_version)
_rows.register(StoreResponded, fulfilment_rows.store_response)
_rows.register(TransferSuggested, fulfilment_rows.transfer_suggestion)

# Pricing (analytics.pricing_rows): every book record is kept whole too; redemption commands are not projected.
_rows.register(BasketPriced, pricing_rows.basket)
_rows.register(PromotionUsed, pricing_rows.use)
_rows.register(PricingVariance, pricing_rows.variance)
_rows.register(PromotionDefined, pricing_rows.promotion_version)
_rows.register(ProductDescribed, pricing_rows.product)
_rows.register(PriceChanged, pricing_rows.price_change)
_rows.register(PromotionGroupDefined, pricing_rows.group)

# The HTTP API's audit (analytics.audit_rows).
_rows.register(HttpRequestAudited, audit_rows.http_request)
