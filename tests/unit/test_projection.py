"""The sink's projection against a real (in-process) DuckDB: every projected event fits its table.

A simulated day's events, and the ledger entries the authority makes of them (domain code, no
Kafka), go through `rows_for` and the sink's `Projection` exactly as the sink batches them; the
stock view must then equal the simulator's expected positions. A field added to an event
without its column fails here, not in the sink process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from analytics.batch import PK, Batch
from analytics.rows import rows_for
from analytics.store import Projection, arrow_rows
from domain.stock import SkuStock
from sim.config import SimConfig
from sim.publish import generate
from sim.report import expected_movements
from streams.inventory import StockChanged
from tables.stock_once import apply


def test_a_simulated_day_and_its_ledger_project_into_duckdb_and_give_the_expected_stock(tmp_path: Path) -> None:
    events = [event for _, _, event in generate(SimConfig(events=3_000, seed=11))]
    ledger: list[StockChanged] = []
    stocks: dict[str, SkuStock] = {}
    for offset, movement in enumerate(expected_movements(events)):
        stock = stocks.get(movement.sku, SkuStock(sku=movement.sku))
        out = apply(stock, movement, offset, None, offset)
        stocks[movement.sku] = out.stock
        ledger += out.ledger
    assert any(entry.kind == "transit_in" for entry in ledger), "the day should move stock between nodes"

    batch = Batch()
    now = datetime.now(UTC)
    for event in [*events, *ledger]:
        for table, table_rows in rows_for(event, now).items():
            batch.rows[table] += table_rows
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    inserted = projection.write(batch.frames(), {("t", 0): 1})
    assert inserted["fct_stock_movements"] == len(ledger)

    got = {
        (sku, node): (on_hand, damaged)
        for sku, node, on_hand, damaged in projection.con.execute(
            "select sku, node, on_hand, damaged from stock_on_hand"
        ).fetchall()
    }
    want = {(sku, node): (p.on_hand, p.damaged) for sku, s in stocks.items() for node, p in s.positions.items()}
    assert got == want
    in_transit = projection.con.execute("select sum(in_transit_delta) from fct_stock_movements").fetchone()
    assert in_transit is not None
    assert in_transit[0] == sum(p.in_transit for s in stocks.values() for p in s.positions.values())


def test_a_row_with_a_field_its_table_has_no_column_for_is_refused_not_dropped() -> None:
    row = {"topic": "t", "partition": 0, "next_offset": 1, "updated_at": datetime.now(UTC), "note": "new field"}
    with pytest.raises(ValueError, match="no column for \\['note'\\]"):
        arrow_rows("sink_offsets", [row])


def test_a_row_without_a_nullable_column_gets_null_in_it() -> None:
    row = {"event_id": "e1", "order_id": "o1", "milestone": "shipped", "node": "wh-01", "carrier": "dhl",
           "occurred_at": datetime.now(UTC), "projected_at": datetime.now(UTC)}
    assert arrow_rows("fct_fulfillment", [row]).column("reason").to_pylist() == [None]


def test_order_statuses_project_and_the_outcome_view_shows_each_orders_latest(tmp_path: Path) -> None:
    from datetime import timedelta

    from streams.orders import OrderLineStatus, OrderStatusChanged

    placed = datetime(2026, 11, 26, 10, tzinfo=UTC)

    def status(order_id: str, name: str, minutes: int, units: int) -> OrderStatusChanged:
        return OrderStatusChanged(
            event_id=f"{order_id}:{name}", occurred_at=placed + timedelta(minutes=minutes), source_node="hq",
            order_id=order_id, status=name, delivery="pick_up_in_store", fulfilment_node="st-001",
            lines=[OrderLineStatus(sku="SKU-001", quantity=units, hold="granted")], placed_at=placed,
        )

    events = [status("or-1", "accepted", 0, 2), status("or-1", "picked_up", 90, 2), status("or-2", "rejected", 0, 1),
              status("or-1", "picked_up", 90, 2)]  # a re-sent status: the same id, one row
    rows = [row for event in events for row in rows_for(event, datetime.now(UTC))["fct_order_status"]]
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    frame = pl.DataFrame(rows).unique(subset=PK["fct_order_status"], keep="first")
    assert projection.write({"fct_order_status": frame}, {("orders.status", 0): 4}) == {"fct_order_status": 3}
    outcomes = projection.con.execute(
        "select order_id, status, units, placed_to_status from order_outcomes order by order_id"
    ).fetchall()
    assert outcomes == [("or-1", "picked_up", 2, timedelta(minutes=90)), ("or-2", "rejected", 1, timedelta(0))]


def test_loyalty_postings_project_and_wallet_balances_equal_the_wallets_own(tmp_path: Path) -> None:
    from datetime import timedelta

    from domain.wallet import Wallet
    from domain.wallet_log import apply, posting
    from streams.loyalty import CapturePoints, EarnPoints, HoldPoints

    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    customer = "cus-" + "1" * 40
    common = {"occurred_at": at, "source_node": "st-001", "customer_id": customer}
    log = [
        EarnPoints(event_id="e1", **common, lot_id="r1:1", points=120, return_window_s=0),
        EarnPoints(event_id="e2", **common, lot_id="r2:1", points=30, return_window_s=3_600),
        HoldPoints(event_id="h1", **common, request_id="q1", points=50, expires_at=at + timedelta(minutes=5),
                   client="till-1"),
        CapturePoints(event_id="c1", **common, request_id="q1"),
        HoldPoints(event_id="h2", **common, request_id="q2", points=20, expires_at=at + timedelta(minutes=5),
                   client="web"),
    ]
    wallet, rows = Wallet(customer_id=customer), []
    for offset, command in enumerate(log):
        for _ in range(2):  # every command redelivered: the same entries again, one row each
            out = apply(wallet, command, offset)
            wallet = out.wallet
            posted = posting(command, out)
            if posted is not None:
                rows += rows_for(posted, datetime.now(UTC))["fct_loyalty_entries"]
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    frame = pl.DataFrame(rows).unique(subset=PK["fct_loyalty_entries"], keep="first")
    projection.write({"fct_loyalty_entries": frame}, {("loyalty.ledger-entries", 0): len(rows)})
    got = projection.con.execute(
        "select pending, available, held, redeemed, outstanding from wallet_balances where customer_id = ?",
        [customer],
    ).fetchone()
    assert got == (30, 50, 20, 50, 100)
    assert (wallet.balance("pending"), wallet.balance("available"), wallet.balance("held")) == got[:3]


def test_purchases_merges_and_tiers_project_into_one_history_per_customer(tmp_path: Path) -> None:
    from datetime import timedelta

    from streams.customers import CustomersMerged, PurchaseLine, PurchaseRecorded
    from streams.loyalty import PointsPosted, TierChanged

    at = datetime(2026, 11, 26, 10, tzinfo=UTC)
    a, b, c = ("cus-" + ch * 40 for ch in "abc")  # seen in the order c (oldest), a, b
    since = {a: at - timedelta(days=2), b: at - timedelta(days=1), c: at - timedelta(days=3)}

    def bought(n: int, customer: str, kind: str, cents: int) -> PurchaseRecorded:
        return PurchaseRecorded(
            event_id=f"p{n}", occurred_at=at, source_node="st-001", customer_id=customer, kind=kind,  # type: ignore[arg-type]
            purchase_key=f"st-001/r{n}", source_event_id=f"s{n}", channel="store", node="st-001",
            lines=[PurchaseLine(line_no=1, sku="SKU-001", quantity=1, net_cents=cents)])

    def merged(n: int, gone: str, keep: str) -> CustomersMerged:
        return CustomersMerged(event_id=f"m{n}", occurred_at=at, source_node="hq", survivor=keep,
                               survivor_since=since[keep], merged=gone, merged_since=since[gone], identifier=f"idh-{n}")

    events = [
        bought(1, a, "purchase", 1_000), bought(2, b, "purchase", 2_000), bought(3, b, "return", 500),
        bought(4, c, "purchase", 4_000),
        merged(1, b, a),  # identity saw a and b first ...
        merged(2, a, c),  # ... then a and c: c, the oldest, is the customer
        TierChanged(event_id="t1", occurred_at=at, source_node="hq", customer_id=c, tier="silver", previous="base",
                    spend_cents=60_000, window_start=at - timedelta(days=364), as_of=at, threshold_cents=50_000,
                    cause_id="e9"),
        PointsPosted(event_id="pp", occurred_at=at, source_node="hq", customer_id=c, command_id="e9", entries=[
            {"entry_id": "earn:x", "debit": "program:issued", "credit": "available", "points": 10,
             "cause": "earn", "cause_id": "x"}], pending=0, available=10, held=0),  # type: ignore[list-item]
    ]
    batch = Batch()
    for event in events * 2:  # delivered twice: one row each
        for table, rows in rows_for(event, datetime.now(UTC)).items():
            batch.rows[table] += rows
    projection = Projection(tmp_path / "omni.duckdb", tmp_path / "analytics.duckdb")
    projection.write(batch.frames(), {("customers.purchases", 0): 1})
    con = projection.con
    assert dict(con.execute("select customer_id, survivor from customer_survivors").fetchall()) == {a: c, b: c, c: c}
    history = con.execute(
        "select customer_id, count(*), sum(signed_net_cents) from customer_purchase_history group by 1").fetchall()
    assert history == [(c, 4, 1_000 + 2_000 - 500 + 4_000)]
    assert con.execute("select customer_id, tier from customer_tiers").fetchall() == [(c, "silver")]
    assert con.execute("select tier, customers from tier_distribution").fetchall() == [("silver", 1)]
