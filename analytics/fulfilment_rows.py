"""Fulfilment's projections: the fact rows of a sourcing decision, a node version, a store response
and a transfer suggestion. Pure; `analytics.rows` dispatches to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from streams.fulfilment import FulfilmentDecided, Method, NodeDefined, Shipment, StoreResponded, TransferSuggested

Row = dict[str, Any]
CAPACITY_METHODS: tuple[Method, ...] = get_args(Method)


def decision(event: FulfilmentDecided, projected_at: datetime) -> dict[str, list[Row]]:
    """One decision row, and one row per shipment of its plan."""
    row = event.model_dump(include={
        "order_id", "attempt", "event_id", "outcome", "reason", "method", "promise", "profile_id",
        "profile_version", "costs_version", "cost_cents", "km", "retries", "candidates_scored", "decide_ms",
        "occurred_at",
    })
    decided = {
        **row,
        "shipments": len(event.shipments),
        "nodes": list(dict.fromkeys(shipment.node for shipment in event.shipments)),
        "units": sum(_units(shipment) for shipment in event.shipments),
        "eliminated": len(event.eliminated),
        "excluded": list(event.excluded),
        "projected_at": projected_at,
    }
    shipments = [_shipment(event, n, shipment, projected_at) for n, shipment in enumerate(event.shipments, 1)]
    return {"fct_fulfilment_decisions": [decided], **({"fct_fulfilment_shipments": shipments} if shipments else {})}


def _shipment(event: FulfilmentDecided, n: int, shipment: Shipment, projected_at: datetime) -> Row:
    return {
        **shipment.model_dump(exclude={"lines"}),
        "order_id": event.order_id, "attempt": event.attempt, "shipment_no": n, "lines": len(shipment.lines),
        "units": _units(shipment), "occurred_at": event.occurred_at, "projected_at": projected_at,
    }


def _units(shipment: Shipment) -> int:
    return sum(line.quantity for line in shipment.lines)


def node_version(event: NodeDefined, projected_at: datetime) -> dict[str, list[Row]]:
    """The node's version with its capacity per method flattened into columns (none: null)."""
    row = event.model_dump(exclude={"hours", "capacity", "source_node", "schema_version", "type"})
    capacity = {c.method: c for c in event.capacity}
    for method in CAPACITY_METHODS:
        known = capacity.get(method)
        row[f"{method}_per_hour"] = known.per_hour if known else None
        row[f"{method}_unit"] = known.unit if known else None
    return {"fct_node_versions": [{**row, "methods": list(event.methods), "projected_at": projected_at}]}


def store_response(event: StoreResponded, projected_at: datetime) -> dict[str, list[Row]]:
    return {"fct_store_responses": [{
        "event_id": event.event_id, "order_id": event.order_id, "node": event.node, "response": event.response,
        "lines": len(event.lines), "units": sum(line.quantity for line in event.lines),
        "skus": [line.sku for line in event.lines], "reason": event.reason, "occurred_at": event.occurred_at,
        "projected_at": projected_at,
    }]}


def transfer_suggestion(event: TransferSuggested, projected_at: datetime) -> dict[str, list[Row]]:
    row = event.model_dump(exclude={"source_node", "schema_version", "type"})
    return {"fct_transfer_suggestions": [{**row, "projected_at": projected_at}]}
