"""Fulfilment's views on an in-memory DuckDB: node kinds from the network, the daily summary, re-sourcings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from streams.base import Event
from streams.orders import OrderPickedUp, OrderShipped
from streams.pos import PosSale, SaleLine, Tender
from tests.unit.fulfilment_factories import (
    AT,
    decided,
    hold,
    ledger,
    minutes,
    model,
    node_defined,
    placed,
    project,
    responded,
    shipment,
    slot,
)


def sale(node: str) -> PosSale:
    return PosSale(event_id=f"s-{node}", occurred_at=AT, source_node=node, receipt_id="r1", terminal_id="t1",
                   cashier_id="k1", lines=[SaleLine(line_no=1, sku="SKU-001", quantity=1, unit_price_cents=500)],
                   tenders=[Tender(method="card", amount_cents=500)])


def test_a_nodes_kind_comes_from_the_network_and_is_guessed_from_its_id_only_when_never_defined() -> None:
    con = model()
    project(con, [
        node_defined("store-0042", "store", name="Utrecht Centraal"), sale("store-0042"),
        node_defined("dc-north", "warehouse"), ledger(1, "SKU-001", "dc-north", "receipt", 5, 5),
        node_defined("st-009", "dark_store"),  # its id says store; the network says otherwise
        node_defined("wh-02", "warehouse"), node_defined("wh-02", "dark_store", version=2),  # the highest version
        sale("st-001"), placed("or-1", node="wh-01"),  # never defined
    ])
    got = con.execute("select node, kind, kind_source, name from dim_node").fetchall()
    assert got == [
        ("dc-north", "warehouse", "network", ""),
        ("st-001", "store", "guessed", None),
        ("st-009", "dark_store", "network", ""),
        ("store-0042", "store", "network", "Utrecht Centraal"),
        ("web", "web", "guessed", None),
        ("wh-01", "warehouse", "guessed", None),
        ("wh-02", "dark_store", "network", ""),
    ]


def shipped(order_id: str, node: str | None, hours: float) -> OrderShipped:
    return OrderShipped(event_id=f"sh-{order_id}-{node}", occurred_at=AT + timedelta(hours=hours),
                        source_node=node or "web", order_id=order_id, fulfilment_node=node)


def a_day_of_sourcing() -> list[Event]:
    """Five orders decided on AT's day, one rejected the next day."""
    return [
        # or-1: one warehouse shipment, left 20 h after the decision, promised within 48 h
        decided("or-1", 1, shipment("wh-01")), shipped("or-1", "wh-01", 20),
        # or-2: the store picked short; re-sourced as a split; the store's part left after the promise
        decided("or-2", 1, shipment("st-002")), responded("or-2", "st-002", "short_pick", 30, units=1),
        decided("or-2", 2, shipment("st-002", 1), shipment("wh-01", 1), at=31),
        shipped("or-2", "wh-01", 10), shipped("or-2", "st-002", 50),
        # or-3: its same-day capacity slot was refused; decided again: rejected
        decided("or-3", 1, shipment("st-003", method="same_day"), method="same_day"),
        hold("h3", "or-3", slot("st-003", "same_day"), "st-003", "rejected", at=1),
        decided("or-3", 2, outcome="rejected", reason="no capacity today", method="same_day", at=2),
        # or-4: the pick-up store waited for a transfer, then planned; not collected yet
        decided("or-4", 1, outcome="waiting", reason="transfer from wh-01", method="pickup"),
        decided("or-4", 2, shipment("st-004", method="pickup"), method="pickup", at=90),
        # or-5: pinned to its node; nothing left yet
        decided("or-5", 1, shipment("st-005"), outcome="pinned"),
        # or-6: the next day, no node at all
        decided("or-6", 1, outcome="rejected", reason="out of stock", at=24 * 60),
    ]


def test_the_fulfilment_summary_gives_each_days_plans_their_split_cost_promise_and_resourcings() -> None:
    con = model()
    project(con, a_day_of_sourcing() * 2)  # every event delivered twice
    rows = con.execute("select * from fulfilment_summary").fetchall()
    columns = [d[0] for d in con.description]
    first, second = (dict(zip(columns, row, strict=True)) for row in rows)
    assert first == {
        "day": date(2026, 11, 26), "decisions": 8, "orders_sourced": 4, "pinned": 1, "split_orders": 1,
        "split_rate": 0.25, "cost_per_order": 6.25, "km_per_order": 12.5, "units": 8, "warehouse_share": 0.375,
        "same_day_share": 0.0, "promise_known": 2, "promise_met_share": 0.5, "resourcings": 3, "rejections": 1,
        "waits": 1,
    }
    assert second == {
        "day": date(2026, 11, 27), "decisions": 1, "orders_sourced": 0, "pinned": 0, "split_orders": 0,
        "split_rate": None, "cost_per_order": None, "km_per_order": None, "units": 0, "warehouse_share": None,
        "same_day_share": None, "promise_known": 0, "promise_met_share": None, "resourcings": 0, "rejections": 1,
        "waits": 0,
    }


def test_a_pick_up_counts_its_promise_when_collected_and_a_shipment_naming_no_node_covers_them_all() -> None:
    con = model()
    project(con, [
        decided("or-7", 1, shipment("st-007", method="pickup", promised_h=4), method="pickup"),
        OrderPickedUp(event_id="pu-7", occurred_at=AT + timedelta(hours=3), source_node="st-007", order_id="or-7"),
        decided("or-8", 1, shipment("wh-01"), shipment("st-008")), shipped("or-8", None, 30),
    ])
    assert con.execute("select promise_known, promise_met_share from fulfilment_summary").fetchall() == [(2, 1.0)]


def test_each_resourcing_says_why_the_order_was_decided_again() -> None:
    con = model()
    project(con, [*a_day_of_sourcing(), placed("or-2")])
    got = con.execute("select order_id, attempt, cause, outcome, previous_outcome, previous_nodes, nodes, "
                      "store_responses, store_response, stock_refused, capacity_refused from resourcings")
    assert got.fetchall() == [
        ("or-3", 2, "capacity_refused", "rejected", "planned", ["st-003"], [], 0, None, 0, 1),
        ("or-2", 2, "short_pick", "planned", "planned", ["st-002"], ["st-002", "wh-01"], 1,
         "st-002 short_pick: damaged", 0, 0),
        ("or-4", 2, "was_waiting", "planned", "waiting", [], ["st-004"], 0, None, 0, 0),
    ]


@pytest.mark.parametrize("said", ["rejected", "short_pick"])
def test_a_store_answer_before_the_previous_decision_is_not_why_the_order_was_decided_again(said: str) -> None:
    con = model()
    project(con, [
        responded("or-9", "st-002", said, -5, units=1),  # about an earlier assignment
        decided("or-9", 1, shipment("st-002")),
        hold("h9", "or-9", "SKU-001", "st-002", "rejected", at=3),
        decided("or-9", 2, shipment("wh-01"), at=4),
    ])
    assert con.execute("select cause, store_responses, stock_refused from resourcings").fetchall() == [
        ("stock_refused", 0, 1)]
    assert minutes(4) == con.execute("select decided_at from resourcings").fetchone()[0]  # type: ignore[index]
