"""Fulfilment events as the saga, the network and the stock authority make them; a model to project them into."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from analytics.batch import Batch
from analytics.rows import rows_for
from analytics.sql_files import SCHEMA, sql
from domain.fulfilment.capacity import capacity_sku
from streams.base import Event
from streams.fulfilment import (
    Elimination,
    FulfilmentDecided,
    Method,
    NodeDefined,
    PlannedLine,
    Shipment,
    SlotCapacity,
    StoreResponded,
)
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged, StockChanged
from streams.orders import OrderLineStatus, OrderPlaced, OrderStatusChanged
from streams.pos import SaleLine

AT = datetime(2026, 11, 26, 10, tzinfo=UTC)


def model() -> duckdb.DuckDBPyConnection:
    """The sink's schema, empty, in memory, days in UTC."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for name in SCHEMA:
        con.execute(sql(name))
    return con


def batch_of(events: Iterable[Event], projected_at: datetime = AT) -> Batch:
    """The events as one sink batch, read record by record (each a microsecond after the last)."""
    batch = Batch()
    for n, event in enumerate(events):
        for table, rows in rows_for(event, projected_at + timedelta(microseconds=n)).items():
            batch.rows[table] += rows
    return batch


def project(con: duckdb.DuckDBPyConnection, events: Iterable[Event], projected_at: datetime = AT) -> None:
    """As the sink does: rows per table, deduplicated on the key, `insert or ignore` by name."""
    for table, frame in batch_of(events, projected_at).frames().items():
        con.register("batch_rows", frame.to_arrow())
        con.execute(f"insert or ignore into {table} by name select * from batch_rows")
        con.unregister("batch_rows")


def minutes(n: float) -> datetime:
    return AT + timedelta(minutes=n)


def placed(order_id: str, at: float = 0, node: str | None = None, pickup_node: str | None = None,
           pickup: bool = False) -> OrderPlaced:
    """An order for two of SKU-001: pinned to `node`, picked up at `pickup_node`, or sourced by the network."""
    pickup = pickup or pickup_node is not None
    return OrderPlaced(
        event_id=f"e-{order_id}", occurred_at=minutes(at), source_node="web", order_id=order_id, channel="web",
        delivery="pick_up_in_store" if pickup else "ship_to_address", fulfilment_node=node, pickup_node=pickup_node,
        ship_to=None if pickup else {"postcode": "1011AB", "country": "NL", "lat": 52.37, "lon": 4.89},  # type: ignore[arg-type]
        lines=[SaleLine(line_no=1, sku="SKU-001", quantity=2, unit_price_cents=1_000)],
    )


def status(order_id: str, name: str, at: float, node: str | None, nodes: list[str] | None = None,
           delivery: str = "ship_to_address") -> OrderStatusChanged:
    return OrderStatusChanged(
        event_id=f"{order_id}:{name}", occurred_at=minutes(at), source_node="web", order_id=order_id,
        status=name, delivery=delivery, fulfilment_node=node, nodes=nodes or [],  # type: ignore[arg-type]
        lines=[OrderLineStatus(sku="SKU-001", quantity=2, hold="granted", node=node)], placed_at=AT,
    )


def shipment(node: str, units: int = 2, method: Method = "ship", promised_h: float = 48, cost_cents: int = 500,
             km: float = 10.0) -> Shipment:
    return Shipment(
        node=node, method=method, lines=[PlannedLine(sku="SKU-001", quantity=units)], slot_start=AT,
        ready_at=AT + timedelta(hours=1), promised_at=AT + timedelta(hours=promised_h), km=km,
        cost_cents=cost_cents, capacity_units=1,
    )


def decided(order_id: str, attempt: int = 1, *shipments: Shipment, outcome: str = "planned", at: float = 0,
            reason: str = "", method: Method = "ship", **more: Any) -> FulfilmentDecided:
    return FulfilmentDecided(
        event_id=f"d-{order_id}-{attempt}", occurred_at=minutes(at), source_node="web", order_id=order_id,
        attempt=attempt, outcome=outcome, reason=reason, method=method,  # type: ignore[arg-type]
        promise="same_day" if method == "same_day" else "standard", profile_id="network", profile_version=4,
        costs_version=2, shipments=list(shipments), cost_cents=sum(s.cost_cents for s in shipments),
        km=sum(s.km for s in shipments), candidates_scored=12,
        eliminated=[Elimination(node="st-009", reason="closed")], **more,
    )


def node_defined(node: str, kind: str, version: int = 1, name: str = "") -> NodeDefined:
    return NodeDefined(
        event_id=f"n-{node}-{version}", occurred_at=AT - timedelta(days=30), source_node="head-office",
        node_id=node, version=version, effective_from=AT - timedelta(days=30), kind=kind,  # type: ignore[arg-type]
        name=name, lat=52.0, lon=4.5, postcode="1011AB", methods=["ship", "pickup"],
        capacity=[SlotCapacity(method="ship", per_hour=40), SlotCapacity(method="pickup", per_hour=12, unit="units")],
    )


def responded(order_id: str, node: str, response: str, at: float, units: int = 0) -> StoreResponded:
    return StoreResponded(
        event_id=f"r-{order_id}-{node}", occurred_at=minutes(at), source_node=node, order_id=order_id, node=node,
        response=response, reason="no staff" if response == "rejected" else "damaged",  # type: ignore[arg-type]
        lines=[PlannedLine(sku="SKU-001", quantity=units)] if units else [],
    )


def slot(node: str, method: Method = "ship", hour: int = 0) -> str:
    """The capacity SKU of `node`'s slot starting `hour` hours after AT."""
    return capacity_sku(node, method, AT + timedelta(hours=hour))


def ledger(n: int, sku: str, node: str, kind: str, delta: int, after: int) -> StockChanged:
    return StockChanged(
        event_id=f"l{n}", occurred_at=AT, source_node=node, movement_id=f"m{n}", sku=sku, node=node,
        kind=kind, on_hand_delta=delta, damaged_delta=0, on_hand_after=after, damaged_after=0,  # type: ignore[arg-type]
        cause_event_id=f"c{n}", cause_type="test", movement_offset=n,
    )


def availability(n: int, sku: str, node: str, on_hand: int, held: int) -> AvailabilityChanged:
    return AvailabilityChanged(
        event_id=f"a{n}:{node}", occurred_at=AT, source_node=node, sku=sku, node=node, on_hand=on_hand, held=held,
        safety=0, atp=max(0, on_hand - held),
    )


def hold(command: str, order_id: str, sku: str, node: str, said: str, at: float = 0) -> HoldAnswered:
    return HoldAnswered(
        event_id=f"{command}:{order_id}/{sku}", occurred_at=minutes(at), source_node=node,
        hold_id=f"{order_id}/{sku}", order_id=order_id, sku=sku, node=node, quantity=1,
        answer=said, atp_after=0, command_id=command,  # type: ignore[arg-type]
    )
