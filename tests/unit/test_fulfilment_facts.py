"""Fulfilment in the sink's facts: orders the network sources, split and waiting orders; decisions, shipments,
network versions, store responses and transfer suggestions, rows in and rows out on DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics.store import Projection
from streams.orders import OrderShipped
from tests.unit.fulfilment_factories import AT, minutes, model, placed, project, status


def test_an_order_the_network_sources_has_no_node_until_a_status_names_its_nodes() -> None:
    con = model()
    project(con, [
        placed("or-1"),
        status("or-1", "waiting", 1, None),
        status("or-1", "accepted", 5, "wh-01", ["wh-01", "st-002"]),
        OrderShipped(event_id="sh-1", occurred_at=minutes(60), source_node="wh-01", order_id="or-1"),
    ])
    assert con.execute("select node from fct_sales_lines").fetchall() == [(None,)]
    milestones = con.execute("select milestone, node from fct_fulfillment order by occurred_at").fetchall()
    assert milestones == [("placed", None), ("waiting", None), ("accepted", "wh-01"), ("shipped", None)]
    statuses = con.execute("select status, fulfilment_node, nodes from fct_order_status order by occurred_at")
    assert statuses.fetchall() == [("waiting", None, []), ("accepted", "wh-01", ["wh-01", "st-002"])]
    outcome = con.execute("select status, fulfilment_node, nodes from order_outcomes").fetchall()
    assert outcome == [("accepted", "wh-01", ["wh-01", "st-002"])]
    assert con.execute("select node from dim_node order by node").fetchall() == [("st-002",), ("web",), ("wh-01",)]


def test_a_pick_up_order_counts_at_the_store_the_customer_chose() -> None:
    con = model()
    project(con, [
        placed("or-2", pickup_node="st-003"),
        status("or-2", "waiting", 1, None, delivery="pick_up_in_store"),  # the store waits for a transfer
        status("or-2", "accepted", 90, "st-003", ["st-003"], delivery="pick_up_in_store"),
    ])
    assert con.execute("select node from fct_sales_lines").fetchall() == [("st-003",)]
    ready = con.execute("select node, orders_ready, waiting from pickup_performance").fetchall()
    assert ready == [("st-003", 1, 1)]
    assert con.execute("select status, count(*) from fct_order_status group by all order by 1").fetchall() == [
        ("accepted", 1), ("waiting", 1)]


def test_a_file_made_before_orders_could_omit_their_node_takes_rows_without_one(tmp_path: Path) -> None:
    path = tmp_path / "omni.duckdb"
    old = duckdb.connect(str(path))
    old.execute("create table fct_order_status (event_id varchar not null primary key, order_id varchar not null, "
                "status varchar not null, reason varchar not null, delivery varchar not null, "
                "fulfilment_node varchar not null, lines integer not null, units integer not null, "
                "placed_at timestamptz not null, occurred_at timestamptz not null, projected_at timestamptz not null)")
    old.execute("insert into fct_order_status values ('or-0:accepted', 'or-0', 'accepted', '', 'ship_to_address', "
                "'wh-01', 1, 2, ?, ?, ?)", [AT, AT, AT])
    old.close()

    projection = Projection(path, tmp_path / "analytics.duckdb")
    project(projection.con, [status("or-1", "waiting", 1, None)])

    rows = projection.con.execute("select order_id, fulfilment_node, nodes from fct_order_status order by 1")
    assert rows.fetchall() == [("or-0", "wh-01", None), ("or-1", None, [])]
    projection.close()
