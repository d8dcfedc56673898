"""The analyst's model on an in-memory DuckDB: synthetic events through `rows_for`, views asked real questions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest

from analytics.batch import PK, Batch
from analytics.rows import rows_for
from analytics.sql_files import SCHEMA, sql
from streams.base import Event
from streams.customers import CustomersMerged
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged, StockChanged
from streams.loyalty import PointsPosted, TierChanged
from streams.orders import OrderLineStatus, OrderPickedUp, OrderPlaced, OrderStatusChanged
from streams.pos import PosSale, SaleLine, Tender
from streams.pricing import PriceChanged

AT = datetime(2026, 11, 26, 10, tzinfo=UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in SCHEMA:
        con.execute(sql(name))
    return con


def project(con: duckdb.DuckDBPyConnection, events: Iterable[Event], projected_at: datetime = AT) -> None:
    """As the sink does: rows per table, deduplicated on the key, `insert or ignore` by name."""
    batch = Batch()
    for n, event in enumerate(events):
        for table, rows in rows_for(event, projected_at + timedelta(microseconds=n)).items():
            batch.rows[table] += rows
    for table, frame in batch.frames().items():
        con.register("batch_rows", frame.to_arrow())
        con.execute(f"insert or ignore into {table} by name select * from batch_rows")
        con.unregister("batch_rows")


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    frame = pl.DataFrame(rows).unique(subset=PK.get(table, list(rows[0])), keep="first")
    con.register("batch_rows", frame.to_arrow())
    con.execute(f"insert into {table} by name select * from batch_rows")
    con.unregister("batch_rows")


def ledger(n: int, sku: str, node: str, kind: str, delta: int, after: int, minutes: int = 0) -> StockChanged:
    return StockChanged(
        event_id=f"l{n}", occurred_at=AT + timedelta(minutes=minutes), source_node=node, movement_id=f"m{n}",
        sku=sku, node=node, kind=kind, on_hand_delta=delta if kind != "return_damaged" else 0,  # type: ignore[arg-type]
        damaged_delta=delta if kind == "return_damaged" else 0, on_hand_after=after, damaged_after=0,
        cause_event_id=f"c{n}", cause_type="test", movement_offset=n,
    )


def availability(n: int, sku: str, node: str, on_hand: int, held: int, safety: int = 0) -> AvailabilityChanged:
    return AvailabilityChanged(
        event_id=f"a{n}:{node}", occurred_at=AT, source_node=node, sku=sku, node=node, on_hand=on_hand, held=held,
        safety=safety, atp=max(0, on_hand - held - safety),
    )


def answer(command: str, hold: str, sku: str, node: str, quantity: int, said: str) -> HoldAnswered:
    return HoldAnswered(
        event_id=f"{command}:{hold}", occurred_at=AT, source_node=node, hold_id=hold, order_id=hold.split("/")[0],
        sku=sku, node=node, quantity=quantity, answer=said, atp_after=0, command_id=command,  # type: ignore[arg-type]
    )


def test_stock_by_node_shows_on_hand_from_the_ledger_and_atp_from_the_newest_availability(
    con: duckdb.DuckDBPyConnection,
) -> None:
    project(con, [
        ledger(1, "SKU-001", "st-001", "receipt", 10, 10),
        ledger(2, "SKU-001", "st-001", "sale", -2, 8),
        availability(1, "SKU-001", "st-001", on_hand=10, held=0, safety=1),
        availability(2, "SKU-001", "st-001", on_hand=10, held=3, safety=1),  # a hold of 3 granted
        availability(3, "SKU-001", "st-001", on_hand=8, held=3, safety=1),  # then the till sale: the newest
        availability(4, "SKU-002", "wh-01", on_hand=0, held=0),  # a position no movement has touched
        answer("p1", "or-1/SKU-001", "SKU-001", "st-001", 3, "granted"),
        answer("p2", "or-2/SKU-001", "SKU-001", "st-001", 2, "granted"),
        answer("x2", "or-2/SKU-001", "SKU-001", "st-001", 2, "expired"),  # or-2's hold is over
    ])
    got = con.execute(
        "select sku, node, on_hand, held, safety, atp, open_holds from stock_by_node order by sku, node"
    ).fetchall()
    assert got == [("SKU-001", "st-001", 8, 3, 1, 4, 1), ("SKU-002", "wh-01", 0, 0, 0, 0, 0)]


def test_sell_through_is_units_sold_over_units_sold_plus_on_hand(con: duckdb.DuckDBPyConnection) -> None:
    project(con, [
        ledger(1, "SKU-001", "st-001", "receipt", 20, 20),
        ledger(2, "SKU-001", "st-001", "sale", -6, 14),
        ledger(3, "SKU-001", "st-001", "void", 1, 15),  # one unit of the sale undone at the till
        ledger(4, "SKU-001", "st-001", "hold_commit", -3, 12),  # an online order picked up
        ledger(5, "SKU-001", "st-001", "return", 2, 14),
        ledger(6, "SKU-001", "st-001", "return_damaged", 1, 14),
        ledger(7, "SKU-002", "wh-01", "receipt", 5, 5),  # nothing sold yet
    ])
    got = con.execute(
        "select sku, node, units_sold, units_returned, on_hand, sell_through from sell_through order by sku"
    ).fetchall()
    assert got == [("SKU-001", "st-001", 8, 3, 14, pytest.approx(8 / 22, abs=1e-4)), ("SKU-002", "wh-01", 0, 0, 5, 0)]


def order_placed(order_id: str, delivery: str, minutes: int) -> OrderPlaced:
    return OrderPlaced(
        event_id=f"e-{order_id}", occurred_at=AT + timedelta(minutes=minutes), source_node="web", order_id=order_id,
        channel="web", delivery=delivery, fulfilment_node="st-001",  # type: ignore[arg-type]
        ship_to=None if delivery == "pick_up_in_store" else {"postcode": "1011AB", "country": "NL"},  # type: ignore[arg-type]
        lines=[SaleLine(line_no=1, sku="SKU-001", quantity=2, unit_price_cents=1_000)],
    )


def status(order_id: str, name: str, minutes: int, placed_minutes: int, delivery: str = "pick_up_in_store") -> Event:
    return OrderStatusChanged(
        event_id=f"{order_id}:{name}", occurred_at=AT + timedelta(minutes=minutes), source_node="st-001",
        order_id=order_id, status=name, delivery=delivery, fulfilment_node="st-001",  # type: ignore[arg-type]
        lines=[OrderLineStatus(sku="SKU-001", quantity=2, hold="granted")],
        placed_at=AT + timedelta(minutes=placed_minutes),
    )


def picked_up(order_id: str, minutes: int) -> OrderPickedUp:
    return OrderPickedUp(event_id=f"pu-{order_id}", occurred_at=AT + timedelta(minutes=minutes),
                         source_node="st-001", order_id=order_id, fulfilment_node="st-001")


def test_pickup_performance_counts_ready_orders_their_outcomes_and_the_time_to_pick_up(
    con: duckdb.DuckDBPyConnection,
) -> None:
    events = [
        order_placed("or-1", "pick_up_in_store", 0), status("or-1", "accepted", 0, 0), picked_up("or-1", 60),
        order_placed("or-2", "pick_up_in_store", 5), status("or-2", "accepted", 5, 5), picked_up("or-2", 185),
        order_placed("or-3", "pick_up_in_store", 10), status("or-3", "accepted", 10, 10),
        status("or-3", "no_show", 600, 10),
        order_placed("or-4", "pick_up_in_store", 15), status("or-4", "accepted", 15, 15),
        status("or-4", "cancelled", 20, 15),
        order_placed("or-5", "pick_up_in_store", 20), status("or-5", "accepted", 20, 20),  # still waiting
        order_placed("or-6", "pick_up_in_store", 25), status("or-6", "rejected", 25, 25),  # never ready
        order_placed("or-8", "pick_up_in_store", 30), status("or-8", "accepted", 30, 30), picked_up("or-8", 60),
        order_placed("or-7", "ship_to_address", 30), status("or-7", "accepted", 30, 30, "ship_to_address"),
    ]
    project(con, events + events)  # every event delivered twice
    got = con.execute(
        "select node, day, orders_ready, picked_up, not_collected, cancelled, waiting, pick_up_rate,"
        " p50_minutes_to_pick_up, avg_minutes_to_pick_up from pickup_performance"
    ).fetchall()
    assert got == [("st-001", date(2026, 11, 26), 6, 3, 1, 1, 1, 0.6, 60.0, 90.0)]  # picked up after 60, 180, 30
    milestones = con.execute("select milestone, count(*) from fct_fulfillment group by 1 order by 1").fetchall()
    assert milestones == [("accepted", 7), ("cancelled", 1), ("no_show", 1), ("picked_up", 3), ("placed", 8),
                          ("rejected", 1)]


def customer(ch: str) -> str:
    return "cus-" + ch * 40


def posted(n: int, who: str, *entries: tuple[str, str, int]) -> PointsPosted:
    return PointsPosted(
        event_id=f"pp{n}", occurred_at=AT, source_node="hq", customer_id=who, command_id=f"c{n}",
        entries=[{"entry_id": f"e{n}:{i}", "debit": debit, "credit": credit, "points": points,  # type: ignore[misc]
                  "cause": "earn", "cause_id": f"x{n}"} for i, (debit, credit, points) in enumerate(entries)],
        pending=0, available=0, held=0,
    )


def test_outstanding_points_count_each_wallet_under_its_survivor_and_its_tier(con: duckdb.DuckDBPyConnection) -> None:
    a, b, c = customer("a"), customer("b"), customer("c")
    project(con, [
        posted(1, a, ("program:issued", "available", 100), ("program:issued", "pending", 40)),
        posted(2, b, ("program:issued", "available", 30), ("available", "held", 10)),
        posted(3, c, ("program:issued", "available", 500), ("available", "program:redeemed", 200)),
        # b merged into a: b's points move out to the clearing account and into a
        CustomersMerged(event_id="m1", occurred_at=AT, source_node="hq", merged=b, merged_since=AT, survivor=a,
                        survivor_since=AT - timedelta(days=1), identifier="idh-1"),
        posted(4, b, ("available", "program:merges", 20), ("held", "program:merges", 10)),
        posted(5, a, ("program:merges", "available", 20), ("program:merges", "held", 10)),
        TierChanged(event_id="t1", occurred_at=AT, source_node="hq", customer_id=c, tier="gold", previous="base",
                    spend_cents=150_000, window_start=AT - timedelta(days=364), as_of=AT, threshold_cents=100_000,
                    cause_id="c3"),
    ])
    got = con.execute(
        "select tier, customers, pending, available, held, outstanding from outstanding_points order by tier"
    ).fetchall()
    assert got == [("base", 1, 40, 120, 10, 170), ("gold", 1, 0, 300, 0, 300)]
    dims = con.execute("select customer_id, survivor_id, is_survivor, tier from dim_customer").fetchall()
    assert dims == [(a, a, True, "base"), (b, a, False, "base"), (c, c, True, "gold")]


def alert(n: int, window_end: datetime, severity: str = "high") -> dict[str, Any]:
    return {
        "alert_id": f"al-{n}", "rule": "return_above_value", "severity": severity, "entity_kind": "store",
        "entity_id": "st-001", "window_start": window_end - timedelta(hours=1), "window_end": window_end,
        "summary": f"alert {n}", "evidence": json.dumps({"events": [f"e{n}"]}), "raised_at": window_end,
        "projected_at": window_end,
    }


def test_open_fraud_alerts_are_those_of_the_last_seven_days_newest_first(con: duckdb.DuckDBPyConnection) -> None:
    insert(con, "fct_fraud_alerts", [
        alert(1, AT - timedelta(days=10)),
        alert(2, AT - timedelta(days=6, hours=23)),
        alert(3, AT, "medium"),
        alert(4, AT - timedelta(days=1)),
    ])
    got = con.execute("select alert_id, severity, summary, as_of from open_fraud_alerts").fetchall()
    assert got == [("al-3", "medium", "alert 3", AT), ("al-4", "high", "alert 4", AT), ("al-2", "high", "alert 2", AT)]


def test_dimensions_cover_every_node_sku_and_day_seen(con: duckdb.DuckDBPyConnection) -> None:
    project(con, [
        PosSale(event_id="s1", occurred_at=AT, source_node="st-002", receipt_id="r1", terminal_id="t1",
                cashier_id="k1", lines=[SaleLine(line_no=1, sku="SKU-003", quantity=1, unit_price_cents=500)],
                tenders=[Tender(method="card", amount_cents=500)]),
        order_placed("or-9", "ship_to_address", 60 * 24 * 2),  # web, fulfilled by st-001 two days later
        ledger(1, "SKU-001", "wh-01", "receipt", 5, 5),
        PriceChanged(event_id="pc1", occurred_at=AT - timedelta(days=1), source_node="head-office", sku="SKU-001",
                     price_cents=1_299, effective_from=AT - timedelta(days=1)),
        PriceChanged(event_id="pc2", occurred_at=AT, source_node="head-office", sku="SKU-001", price_cents=1_199,
                     effective_from=AT),
        PriceChanged(event_id="pc3", occurred_at=AT, source_node="head-office", sku="SKU-001", price_cents=999,
                     effective_from=AT, node="st-003"),  # one store's price: not the central one
    ])
    nodes = con.execute("select node, kind from dim_node").fetchall()
    assert nodes == [("st-001", "store"), ("st-002", "store"), ("st-003", "store"), ("web", "web"),
                     ("wh-01", "warehouse")]
    skus = con.execute("select sku, central_price_cents, price_since from dim_sku").fetchall()
    assert skus == [("SKU-001", 1_199, AT), ("SKU-003", None, None)]
    days = con.execute("select day, iso_week, weekday_name, is_weekend from dim_calendar").fetchall()
    assert days == [(date(2026, 11, 26), 48, "Thursday", False), (date(2026, 11, 27), 48, "Friday", False),
                    (date(2026, 11, 28), 48, "Saturday", True)]
    by_day = con.execute("select day, channel, documents, units from sales_by_channel_day").fetchall()
    assert by_day == [(date(2026, 11, 26), "store", 1, 1), (date(2026, 11, 28), "web", 1, 2)]
