"""Fulfilment in the sink's facts: orders the network sources, split and waiting orders; decisions, shipments,
network versions, store responses and transfer suggestions, rows in and rows out on DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import columnar
from analytics.batch import Batch
from analytics.rows import rows_for
from analytics.sink import FACT_SOURCES
from analytics.sql_files import sql
from analytics.store import Projection
from streams.base import Event
from streams.codec import encode
from streams.fulfilment import (
    Candidate,
    CostsDefined,
    Elimination,
    FulfilmentDecided,
    NodeDefined,
    PlannedLine,
    ProfileDefined,
    Shipment,
    SlotCapacity,
    StoreResponded,
    TransferSuggested,
)
from streams.orders import OrderShipped
from streams.topics import FULFILMENT_TOPICS, TopicSpec, spec_for
from tests.unit.fulfilment_factories import (
    AT,
    decided,
    minutes,
    model,
    node_defined,
    placed,
    project,
    responded,
    shipment,
    status,
)

MAX_BYTES = 262_144


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


def test_a_split_plan_is_one_decision_row_and_a_row_per_shipment() -> None:
    con = model()
    plan = decided("or-1", 1, shipment("wh-01", 3, cost_cents=700, km=80.5), shipment("st-002", 1, km=4.0),
                   excluded=["st-001"], retries=1)
    project(con, [plan, plan])  # delivered twice: one row each
    row = con.execute("select order_id, attempt, outcome, shipments, nodes, units, cost_cents, km, retries, "
                      "candidates_scored, eliminated, excluded, profile_id, profile_version, costs_version "
                      "from fct_fulfilment_decisions").fetchall()
    assert row == [
        ("or-1", 1, "planned", 2, ["wh-01", "st-002"], 4, 1_200, 84.5, 1, 12, 1, ["st-001"], "network", 4, 2)]
    shipped = con.execute("select shipment_no, node, method, lines, units, cost_cents, capacity_units, promised_at "
                          "from fct_fulfilment_shipments order by shipment_no").fetchall()
    assert shipped == [(1, "wh-01", "ship", 1, 3, 700, 1, AT + timedelta(hours=48)),
                       (2, "st-002", "ship", 1, 1, 500, 1, AT + timedelta(hours=48))]


def test_a_rejection_is_a_decision_without_shipments() -> None:
    con = model()
    project(con, [decided("or-2", 1, outcome="rejected", reason="no node has the stock")])
    assert con.execute("select outcome, reason, shipments, nodes, units from fct_fulfilment_decisions").fetchall() == [
        ("rejected", "no node has the stock", 0, [], 0)]
    assert con.execute("select count(*) from fct_fulfilment_shipments").fetchall() == [(0,)]


def test_a_node_version_flattens_its_capacity_per_method() -> None:
    con = model()
    project(con, [node_defined("store-0042", "store", name="Utrecht Centraal"), node_defined("dc-north", "warehouse")])
    rows = con.execute("select node_id, version, kind, name, methods, ship_per_hour, ship_unit, same_day_per_hour, "
                       "pickup_per_hour, pickup_unit from fct_node_versions order by node_id").fetchall()
    assert rows == [
        ("dc-north", 1, "warehouse", "", ["ship", "pickup"], 40, "orders", None, 12, "units"),
        ("store-0042", 1, "store", "Utrecht Centraal", ["ship", "pickup"], 40, "orders", None, 12, "units"),
    ]


def test_store_responses_count_the_units_a_short_pick_misses() -> None:
    con = model()
    project(con, [responded("or-3", "st-002", "short_pick", 30, units=2), responded("or-4", "st-005", "rejected", 31)])
    assert con.execute("select order_id, node, response, lines, units, skus, reason from fct_store_responses "
                       "order by order_id").fetchall() == [
        ("or-3", "st-002", "short_pick", 1, 2, ["SKU-001"], "damaged"),
        ("or-4", "st-005", "rejected", 0, 0, [], "no staff")]


def test_the_sink_reads_every_fulfilment_topic_record_by_record() -> None:
    assert set(FULFILMENT_TOPICS) <= set(FACT_SOURCES)
    assert not any(spec in columnar.TOPICS for spec in FULFILMENT_TOPICS)


# --- any event of the fulfilment topics fits its tables ----------------------------------------

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,30}", fullmatch=True)
skus = st.from_regex(r"[A-Z0-9][A-Z0-9-]{2,20}", fullmatch=True)
nodes = st.from_regex(r"[a-z][a-z0-9-]{1,20}", fullmatch=True)
texts = st.text(max_size=12)
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1),
                       timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))]))
units = st.integers(1, 100_000)
big = st.integers(0, 2**62)
floats = st.floats(0, 1e6, allow_nan=False)
methods = st.sampled_from(["ship", "same_day", "pickup"])
lines = st.lists(st.builds(PlannedLine, sku=skus, quantity=units), min_size=1, max_size=3)


def envelope() -> dict[str, Any]:
    return {"event_id": ids, "occurred_at": moments, "source_node": nodes}


FULFILMENT_EVENTS: dict[str, st.SearchStrategy[Event]] = {
    "FulfilmentDecided": st.builds(
        FulfilmentDecided, **envelope(), order_id=ids, attempt=st.integers(1, 2**40),
        outcome=st.sampled_from(["planned", "rejected", "pinned", "waiting"]), reason=texts, method=methods,
        promise=st.sampled_from(["standard", "express", "same_day"]), profile_id=texts, profile_version=big,
        costs_version=big, network_versions=st.dictionaries(nodes, big, max_size=2),
        shipments=st.lists(st.builds(Shipment, node=nodes, method=methods, lines=lines, slot_start=moments,
                                     ready_at=moments, promised_at=moments, km=floats, cost_cents=big,
                                     capacity_units=st.integers(1, 2**40)), max_size=3),
        candidates=st.lists(st.builds(Candidate, nodes=st.lists(nodes, max_size=2),
                                      criteria=st.dictionaries(texts, floats, max_size=2), rank=units), max_size=2),
        candidates_scored=big, eliminated=st.lists(st.builds(Elimination, node=nodes, reason=st.just("closed")),
                                                   max_size=3),
        excluded=st.lists(texts, max_size=3), retries=big, cost_cents=big, km=floats, decide_ms=floats,
    ),
    "NodeDefined": st.builds(
        NodeDefined, **envelope(), node_id=nodes, version=st.integers(1, 2**40), effective_from=moments,
        kind=st.sampled_from(["store", "warehouse", "dark_store", "head_office"]), name=texts,
        lat=st.floats(-90, 90), lon=st.floats(-180, 180), postcode=st.text(max_size=16),
        methods=st.lists(methods, max_size=3, unique=True),
        capacity=st.lists(st.builds(SlotCapacity, method=methods, per_hour=st.integers(0, 100_000),
                                    unit=st.sampled_from(["orders", "units"])),
                          max_size=3, unique_by=lambda c: c.method),
        prep_minutes=st.integers(0, 7 * 24 * 60), protected_units=st.integers(0, 100_000), active=st.booleans(),
    ),
    "StoreResponded": st.builds(
        StoreResponded, **envelope(), order_id=ids, node=nodes, response=st.sampled_from(["rejected", "short_pick"]),
        lines=st.lists(st.builds(PlannedLine, sku=skus, quantity=units), max_size=3),
        reason=st.text(min_size=1, max_size=12),
    ),
    "TransferSuggested": st.builds(
        TransferSuggested, **envelope(), suggestion_id=ids, sku=skus, from_node=nodes, to_node=nodes, quantity=units,
        from_on_hand=st.integers(-(2**40), 2**40), to_on_hand=st.integers(-(2**40), 2**40), from_daily_sales=floats,
        to_daily_sales=floats, from_cover_days_before=floats, from_cover_days_after=floats,
        to_cover_days_before=floats, to_cover_days_after=floats, as_of=moments, reason=texts,
    ),
}
TOPIC_OF = {model.__name__: spec for spec in FULFILMENT_TOPICS for model in spec.events}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(list(FULFILMENT_EVENTS.values())), min_size=1, max_size=6))
def test_every_fulfilment_event_the_sink_reads_fits_its_tables_and_lands_once(events: list[Event]) -> None:
    batch = Batch()
    for event in events * 2:  # every event delivered twice
        spec: TopicSpec = TOPIC_OF[type(event).__name__]
        assert batch.add_events(spec, [encode(event)], AT, MAX_BYTES) == 0
    con = duckdb.connect()
    for table, frame in batch.frames().items():
        con.execute(sql(table))
        con.register("batch_rows", frame.to_arrow())
        con.execute(f"insert into {table} by name select * from batch_rows")  # no key repeats: deduplicated
        con.unregister("batch_rows")
    decisions = {(e.order_id, e.attempt) for e in events if isinstance(e, FulfilmentDecided)}
    if decisions:
        assert con.execute("select count(*) from fct_fulfilment_decisions").fetchone() == (len(decisions),)


def test_the_network_s_cost_tables_and_profiles_are_read_but_not_projected() -> None:
    profile = ProfileDefined(event_id="p1", occurred_at=AT, source_node="head-office", profile_id="network",
                             version=1, status="active", criteria=["cost"], nodes_for={"ship": ["warehouse"]})
    assert rows_for(profile, AT) == {}
    assert spec_for("fulfilment.network-versions", "").events == (NodeDefined, CostsDefined, ProfileDefined)
