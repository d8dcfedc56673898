"""The columnar path for internal topics: the same frames as pydantic + `rows_for`, or it steps aside."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import columnar
from analytics.batch import Batch
from analytics.rows import rows_for
from analytics.sink import FACT_SOURCES
from analytics.store import arrow_rows
from streams.base import Event
from streams.codec import DecodeError, decode, encode
from streams.customers import CustomersMerged, PurchaseLine, PurchaseRecorded
from streams.holds import HoldAnswered
from streams.inventory import AvailabilityChanged, InboundLot, NetworkAvailabilityChanged, StockChanged
from streams.loyalty import LedgerLine, PointsPosted, TierChanged
from streams.orders import OrderLineStatus, OrderStatusChanged
from streams.redemptions import PricingVariance, PromotionUsed
from streams.topics import (
    CUSTOMERS_ERASURES,
    CUSTOMERS_MERGES,
    CUSTOMERS_PURCHASES,
    FRAUD_ALERTS,
    FULFILMENT_DECISIONS,
    INVENTORY_AVAILABILITY,
    INVENTORY_HOLD_ANSWERS,
    INVENTORY_LEDGER,
    LOYALTY_LEDGER,
    LOYALTY_TIERS,
    ORDERS_STATUS,
    TopicSpec,
)

MAX_BYTES = 262_144
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
EQUAL = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies: internal events as the worker builds them -------------------------------------

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,30}", fullmatch=True)
skus = st.from_regex(r"[A-Z0-9][A-Z0-9-]{2,20}", fullmatch=True)
nodes = st.from_regex(r"[a-z][a-z0-9-]{1,20}", fullmatch=True)
texts = st.text(max_size=12)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda minutes: timezone(timedelta(minutes=minutes)))
moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets)
int32s = st.integers(-(2**31), 2**31 - 1)
bigints = st.integers(0, 2**62)
counts = st.integers(0, 100_000)


def envelope() -> dict[str, Any]:
    return {"event_id": ids, "occurred_at": moments, "source_node": nodes}


EVENTS: dict[str, st.SearchStrategy[Event]] = {
    "StockChanged": st.builds(
        StockChanged, **envelope(), movement_id=ids, sku=skus, node=nodes,
        kind=st.sampled_from(["sale", "receipt", "count", "transit_in", "transfer_in", "unheld_commit"]),
        on_hand_delta=int32s, damaged_delta=int32s, on_hand_after=int32s, damaged_after=int32s, cause_event_id=ids,
        cause_type=texts, movement_offset=bigints, in_transit_delta=int32s, in_transit_after=int32s,
        transfer_id=st.none() | ids, variance=st.none() | int32s,
    ),
    "AvailabilityChanged": st.builds(
        AvailabilityChanged, **envelope(), sku=skus, node=nodes, on_hand=int32s, held=int32s, safety=int32s,
        atp=int32s, in_transit=int32s,
        inbound=st.lists(st.builds(InboundLot, transfer_id=ids, quantity=int32s, eta=moments), max_size=2),
    ),
    "NetworkAvailabilityChanged": st.builds(
        NetworkAvailabilityChanged, **envelope(), sku=skus, on_hand=int32s, held=int32s, atp=int32s,
        nodes_with_atp=counts, in_transit=int32s,
    ),
    "HoldAnswered": st.builds(
        HoldAnswered, **envelope(), hold_id=ids, order_id=st.just("") | ids, sku=skus, node=st.just("") | nodes,
        quantity=int32s, answer=st.sampled_from(["granted", "rejected", "committed", "released", "unknown"]),
        reason=st.none() | texts, atp_after=int32s, command_id=ids,
    ),
    "OrderStatusChanged": st.builds(
        OrderStatusChanged, **envelope(), order_id=ids,
        status=st.sampled_from(["accepted", "rejected", "cancelled", "shipped", "picked_up", "no_show", "waiting"]),
        reason=texts, delivery=st.sampled_from(["ship_to_address", "pick_up_in_store", "same_day"]),
        fulfilment_node=st.none() | nodes, placed_at=moments, nodes=st.lists(nodes, max_size=3),
        lines=st.lists(st.builds(OrderLineStatus, sku=skus, quantity=counts, hold=texts, node=st.none() | nodes),
                       max_size=4),
    ),
    "PointsPosted": st.builds(
        PointsPosted, **envelope(), customer_id=ids, command_id=ids, pending=int32s, available=int32s, held=int32s,
        entries=st.lists(st.builds(LedgerLine, entry_id=ids, debit=texts, credit=texts, points=int32s, cause=texts,
                                   cause_id=texts), min_size=1, max_size=4),
    ),
    "TierChanged": st.builds(
        TierChanged, **envelope(), customer_id=ids, tier=texts, previous=texts, spend_cents=bigints,
        window_start=moments, as_of=moments, threshold_cents=bigints, cause_id=ids,
        command_offset=st.none() | bigints,
    ),
    "PurchaseRecorded": st.builds(
        PurchaseRecorded, **envelope(), customer_id=ids, kind=st.sampled_from(["purchase", "return"]),
        purchase_key=ids, source_event_id=ids, channel=st.sampled_from(["store", "web", "app"]), node=nodes,
        lines=st.lists(st.builds(PurchaseLine, line_no=st.integers(1, 1000), sku=skus, quantity=counts.filter(bool),
                                 net_cents=bigints), min_size=1, max_size=4),
    ),
    "CustomersMerged": st.builds(
        CustomersMerged, **envelope(), survivor=ids, survivor_since=st.none() | moments, merged=ids,
        merged_since=st.none() | moments, identifier=ids,
    ),
    "PromotionUsed": st.builds(
        PromotionUsed, **envelope(), purchase_key=ids, promotion_id=ids, version=bigints,
        kind=st.sampled_from(["redeemed", "returned"]), channel=st.sampled_from(["store", "web", "app"]), node=nodes,
        customer_id=st.none() | ids, discount_cents=st.integers(-(2**40), 2**40), bonus_points=bigints,
        uses=st.sampled_from([-1, 0, 1]), offline=st.booleans(), snapshot_version=bigints,
    ),
    "PricingVariance": st.builds(
        PricingVariance, **envelope(), receipt_id=ids, store=nodes, terminal_id=st.none() | ids,
        cashier_id=st.none() | ids, line_no=st.integers(1, 1000), sku=skus, quantity=int32s,
        charged_cents=bigints, expected_cents=bigints, variance_cents=st.integers(-(2**40), 2**40),
        charged_unit_price_cents=bigints, expected_unit_price_cents=bigints, till_snapshot_version=st.none() | bigints,
        centre_snapshot_version=bigints,
        cause=st.sampled_from(["price_override", "stale_snapshot", "unstamped", "unexplained"]),
    ),
}


@st.composite
def internal_batches(draw: st.DrawFn) -> tuple[TopicSpec, list[Event]]:
    """One internal topic and a partition's worth of its events, of any of its types."""
    spec = draw(st.sampled_from(columnar.TOPICS))
    events = st.one_of([EVENTS[model.__name__] for model in spec.events])
    return spec, draw(st.lists(events, min_size=1, max_size=8))


def per_record(spec: TopicSpec, values: Sequence[bytes | None]) -> tuple[dict[str, pl.DataFrame], int]:
    """What the sink did before: pydantic per record, `rows_for`, `arrow_rows`; and how many it skipped."""
    rows: dict[str, list[dict[str, Any]]] = {}
    skipped = 0
    for value in values:
        try:
            event = decode(spec, value, MAX_BYTES)
        except DecodeError:
            skipped += 1
            continue
        for table, table_rows in rows_for(event, NOW).items():
            rows.setdefault(table, []).extend(table_rows)
    return {table: pl.DataFrame(arrow_rows(table, table_rows)) for table, table_rows in rows.items()}, skipped


# --- the same frames --------------------------------------------------------------------------

@EQUAL
@given(internal_batches())
def test_internal_events_read_in_columns_give_the_frames_of_the_per_record_path(
    batch: tuple[TopicSpec, list[Event]],
) -> None:
    spec, events = batch
    values = [encode(event) for event in events]
    want, skipped = per_record(spec, values)
    assert skipped == 0

    got, occurred_s = columnar.project(spec, values, NOW, MAX_BYTES)

    assert sorted(got) == sorted(want)
    for table, frame in want.items():
        assert_frame_equal(got[table], frame)
    assert occurred_s == pytest.approx([event.occurred_at.timestamp() for event in events], abs=1e-6)


def test_every_event_type_of_the_columnar_topics_has_a_projection_and_a_strategy() -> None:
    names = {model.__name__ for spec in columnar.TOPICS for model in spec.events}
    assert names == set(columnar.PROJECTIONS) == set(EVENTS)


def test_the_columnar_topics_are_the_fact_sources_the_worker_writes_but_alerts_decisions_and_erasures() -> None:
    by_worker = {spec.name for spec in FACT_SOURCES if spec.writer.startswith(("stage ", "agent "))}
    free_form = {FRAUD_ALERTS.name, FULFILMENT_DECISIONS.name}  # free JSON, maps with free keys: record by record
    free_form |= {CUSTOMERS_ERASURES.name}  # a few a day: never a poll worth reading in columns
    assert {spec.name for spec in columnar.TOPICS} == by_worker - free_form


def test_a_decision_with_maps_of_free_keys_cannot_be_read_in_columns() -> None:
    with pytest.raises(TypeError, match="no columnar type"):
        columnar._schema(FULFILMENT_DECISIONS)


# --- or the batch goes record by record -------------------------------------------------------

@pytest.fixture
def every_poll_columnar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of a few records take the columnar path, as a poll of thousands does."""
    monkeypatch.setattr(columnar, "MIN_RECORDS", 1)


def answers(n: int = 4) -> list[HoldAnswered]:
    return [
        HoldAnswered(event_id=f"cmd-{i}:hold-{i}", occurred_at=NOW - timedelta(seconds=i), source_node="wh-01",
                     hold_id=f"hold-{i}", order_id=f"order-{i}", sku="SKU-0001", node="wh-01", quantity=i + 1,
                     answer="granted", atp_after=10 - i, command_id=f"cmd-{i}")
        for i in range(n)
    ]


def edited(event: Event, change: Callable[[dict[str, Any]], object]) -> bytes:
    payload = json.loads(encode(event))
    change(payload)
    return json.dumps(payload).encode()


REFUSED_BY_BOTH: dict[str, Callable[[Event], bytes | None]] = {
    "truncated JSON": lambda e: encode(e)[:-3],
    "a string for an int": lambda e: edited(e, lambda p: p.update(quantity="2")),
    "a float for an int": lambda e: edited(e, lambda p: p.update(quantity=2.0)),
    "a number for a string": lambda e: edited(e, lambda p: p.update(reason=7)),
    "a field the model lacks": lambda e: edited(e, lambda p: p.update(note="new")),
    "a missing field": lambda e: edited(e, lambda p: p.pop("sku")),
    "a null required field": lambda e: edited(e, lambda p: p.update(hold_id=None)),
    "an unknown event type": lambda e: edited(e, lambda p: p.update(type="hold.pondered")),
    "a newer schema version": lambda e: edited(e, lambda p: p.update(schema_version=2)),
    "a sku off its pattern": lambda e: edited(e, lambda p: p.update(sku="sku lower")),
    "an answer off its literal": lambda e: edited(e, lambda p: p.update(answer="maybe")),
    "a naive datetime": lambda e: edited(e, lambda p: p.update(occurred_at="2026-11-30T12:00:00")),
    "a date for a datetime": lambda e: edited(e, lambda p: p.update(occurred_at="2026-11-30")),
    "an empty record": lambda e: b"",
    "a null record": lambda e: None,
    "two objects on two lines": lambda e: encode(e) + b"\n" + encode(e),
}


@pytest.mark.parametrize("bad", sorted(REFUSED_BY_BOTH))
def test_a_batch_with_a_bad_record_goes_record_by_record_and_skips_just_that_one(
    bad: str, every_poll_columnar: None,
) -> None:
    good = answers()
    values = [encode(event) for event in good]
    values.insert(2, REFUSED_BY_BOTH[bad](good[0]))
    want, want_skipped = per_record(INVENTORY_HOLD_ANSWERS, values)
    with pytest.raises(columnar.UnreadableError):
        columnar.project(INVENTORY_HOLD_ANSWERS, values, NOW, MAX_BYTES)

    batch = Batch()
    skipped = batch.add_events(INVENTORY_HOLD_ANSWERS, values, NOW, MAX_BYTES, [0] * len(values))

    assert skipped == want_skipped == 1
    assert_frame_equal(batch.frames()["fct_holds"].sort("event_id"), want["fct_holds"].sort("event_id"))
    assert len(batch.lateness_s) == len(good)


def split_statuses(n: int = 3) -> list[OrderStatusChanged]:
    return [
        OrderStatusChanged(event_id=f"or-{i}:accepted", occurred_at=NOW, source_node="web", order_id=f"or-{i}",
                           status="accepted", delivery="ship_to_address", fulfilment_node=None if i else "wh-01",
                           nodes=["wh-01", "st-002"], placed_at=NOW,
                           lines=[OrderLineStatus(sku="SKU-0001", quantity=1, hold="granted", node="st-002")])
        for i in range(n)
    ]


NODES_REFUSED_BY_BOTH: dict[str, Callable[[dict[str, Any]], object]] = {
    "a node off its pattern in the list": lambda p: p.update(nodes=["wh-01", "Not A Node"]),
    "a null node in the list": lambda p: p.update(nodes=["wh-01", None]),
    "a number in the list": lambda p: p.update(nodes=[7]),
    "more nodes than the model allows": lambda p: p.update(nodes=[f"st-{i:03d}" for i in range(11)]),
    "a line's node off its pattern": lambda p: p["lines"][0].update(node="ST 2"),
}


@pytest.mark.parametrize("bad", sorted(NODES_REFUSED_BY_BOTH))
def test_a_status_whose_nodes_the_model_refuses_is_refused_in_columns_too(bad: str) -> None:
    good = split_statuses()
    values = [encode(event) for event in good]
    values[1] = edited(good[1], NODES_REFUSED_BY_BOTH[bad])
    assert per_record(ORDERS_STATUS, values)[1] == 1
    with pytest.raises(columnar.UnreadableError):
        columnar.project(ORDERS_STATUS, values, NOW, MAX_BYTES)


def test_a_status_written_before_split_orders_goes_record_by_record_with_no_nodes(
    every_poll_columnar: None,
) -> None:
    good = split_statuses()
    values = [encode(event) for event in good]
    values[1] = edited(good[1], lambda p: p.pop("nodes"))  # pydantic: the default, an empty list
    with pytest.raises(columnar.UnreadableError):
        columnar.project(ORDERS_STATUS, values, NOW, MAX_BYTES)

    batch = Batch()
    assert batch.add_events(ORDERS_STATUS, values, NOW, MAX_BYTES) == 0

    frame = batch.frames()["fct_order_status"].sort("event_id")
    assert frame.get_column("nodes").to_list() == [["wh-01", "st-002"], [], ["wh-01", "st-002"]]


def test_a_split_order_waiting_for_its_node_keeps_its_nodes_and_a_null_node_in_both_paths() -> None:
    values = [encode(event) for event in split_statuses()]
    got, _ = columnar.project(ORDERS_STATUS, values, NOW, MAX_BYTES)
    want, _ = per_record(ORDERS_STATUS, values)
    assert_frame_equal(got["fct_order_status"], want["fct_order_status"])
    assert got["fct_order_status"].get_column("nodes").to_list() == [["wh-01", "st-002"]] * 3
    assert got["fct_fulfillment"].get_column("node").to_list() == ["wh-01", None, None]


def test_a_record_only_the_columnar_path_refuses_is_projected_by_the_per_record_path(
    every_poll_columnar: None,
) -> None:
    good = answers()
    values = [encode(event) for event in good]
    values[1] = edited(good[1], lambda p: p.update(occurred_at="2026-11-30T13:00:00+01:00"))  # pydantic: UTC
    with pytest.raises(columnar.UnreadableError):
        columnar.project(INVENTORY_HOLD_ANSWERS, values, NOW, MAX_BYTES)

    batch = Batch()
    skipped = batch.add_events(INVENTORY_HOLD_ANSWERS, values, NOW, MAX_BYTES)

    assert skipped == 0
    frame = batch.frames()["fct_holds"].sort("event_id")
    assert_frame_equal(frame, per_record(INVENTORY_HOLD_ANSWERS, values)[0]["fct_holds"].sort("event_id"))
    assert frame.height == len(good)


def test_a_good_internal_batch_takes_the_columnar_path_and_measures_every_events_lateness(
    every_poll_columnar: None,
) -> None:
    good = answers()
    batch = Batch()
    skipped = batch.add_events(INVENTORY_HOLD_ANSWERS, [encode(e) for e in good], NOW, MAX_BYTES,
                               [int(NOW.timestamp() * 1000)] * len(good))

    assert skipped == 0
    assert not batch.rows and batch.row_count == len(good)  # frames, not row dicts
    assert batch.lateness_s == pytest.approx([float(i) for i in range(len(good))])


def test_rows_of_one_table_from_both_paths_keep_their_order_so_the_first_of_two_alike_wins(
    every_poll_columnar: None,
) -> None:
    first, second = answers(1)[0], answers(1)[0].model_copy(update={"atp_after": 99})
    batch = Batch()
    batch.add_events(INVENTORY_HOLD_ANSWERS, [b"{", encode(first)], NOW, MAX_BYTES)  # record by record
    batch.add_events(INVENTORY_HOLD_ANSWERS, [encode(second)], NOW, MAX_BYTES)  # columnar

    assert batch.frames()["fct_holds"].get_column("atp_after").to_list() == [first.atp_after]


def test_a_poll_smaller_than_the_threshold_goes_record_by_record() -> None:
    good = answers()
    batch = Batch()
    batch.add_events(INVENTORY_HOLD_ANSWERS, [encode(e) for e in good], NOW, MAX_BYTES)

    assert len(batch.rows["fct_holds"]) == len(good) and not batch.parts
    assert columnar.reads(INVENTORY_HOLD_ANSWERS, columnar.MIN_RECORDS)
    assert not columnar.reads(FRAUD_ALERTS, columnar.MIN_RECORDS)


@pytest.mark.parametrize("spec", [INVENTORY_LEDGER, INVENTORY_AVAILABILITY, ORDERS_STATUS, LOYALTY_LEDGER,
                                  LOYALTY_TIERS, CUSTOMERS_PURCHASES, CUSTOMERS_MERGES])
def test_each_columnar_topic_refuses_a_record_of_another_topic(spec: TopicSpec) -> None:
    stranger = encode(answers(1)[0])
    with pytest.raises(columnar.UnreadableError):
        columnar.project(spec, [stranger], NOW, MAX_BYTES)
