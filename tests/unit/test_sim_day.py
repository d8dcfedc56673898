"""A simulated day: opening stock first, every channel in the mix, and consistent histories."""

from __future__ import annotations

from collections import Counter
from itertools import islice

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import SimConfig
from sim.day import _day, open_day
from sim.publish import generate
from sim.state import Books, Emission
from streams.codec import decode, encode
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.pos import PosReturn, PosSale, PosVoid
from streams.stock import StockReceived, TransferReceived, TransferShipped
from streams.topics import INGEST_TOPICS

# No fraud: the tests below check that normal traffic is consistent (tests/unit/test_sim_fraud.py
# checks the fraud cases).
CONFIG = SimConfig(events=3_000, seed=11, stores=6, warehouses=2, skus=80, customers=300, fraud=0.0)
MAX_BYTES = 262_144


@pytest.fixture(scope="module")
def day() -> list[Emission]:
    return generate(CONFIG)


def of_type(day: list[Emission], kind: type) -> list:  # type: ignore[type-arg]
    return [event for _, _, event in day if isinstance(event, kind)]


def test_the_day_has_exactly_the_configured_number_of_events(day: list[Emission]) -> None:
    assert len(day) == CONFIG.events


def test_opening_stock_comes_first_and_puts_every_sku_on_every_node(day: list[Emission]) -> None:
    nodes = CONFIG.stores + CONFIG.warehouses
    opening = of_type(day[:nodes], StockReceived)
    assert len(opening) == nodes
    stocked = {(line.sku, event.source_node): line.quantity for event in opening for line in event.lines}
    assert len(stocked) == nodes * CONFIG.skus
    assert min(stocked.values()) > 0


# Direct holds are placed by checkouts against live ATP; the simulator's day does not send them
# (orders' holds it does model: the order saga derives them from web.orders). The hold tests
# drive that topic directly.
# An erasure request is a back-office act on one customer, not part of a trading day's mix;
# tests/integration/test_erasure.py sends them.
NOT_SIMULATED = {"inventory.hold-requests", "customers.erasure-requests"}


def test_the_channel_mix_includes_every_event_type_of_every_simulated_ingest_topic(day: list[Emission]) -> None:
    contract = {
        event.model_fields["type"].default for spec in INGEST_TOPICS if spec.name not in NOT_SIMULATED
        for event in spec.events
    }
    assert {event.model_dump()["type"] for _, _, event in day} == contract


def test_every_event_round_trips_through_its_topics_codec(day: list[Emission]) -> None:
    for spec, _, event in day:
        assert decode(spec, encode(event), MAX_BYTES) == event


def test_keys_follow_each_topics_documented_key(day: list[Emission]) -> None:
    expected = {
        "pos.transactions": lambda e: e.source_node,
        "inventory.adjustments": lambda e: e.source_node,
        "web.orders": lambda e: e.order_id,
        "inventory.transfers": lambda e: e.transfer_id,
        "customers.identifiers": lambda e: e.known_as.value,
        "pricing.changes": lambda e: (
            e.group_id if e.type == "promotion_group.defined" else getattr(e, "sku", None) or e.promotion_id
        ),
    }
    for spec, key, event in day:
        assert key == expected[spec.name](event).encode()


def test_event_ids_are_unique_and_minted_from_run_seed_and_sequence(day: list[Emission]) -> None:
    ids = [event.event_id for _, _, event in day]
    assert ids[0] == "sim-11-00000001" and ids[-1] == "sim-11-00003000"
    assert len(set(ids)) == len(ids)


def test_time_never_runs_backwards_within_the_trading_day(day: list[Emission]) -> None:
    times = [event.occurred_at for _, _, event in day]
    assert times == sorted(times)
    assert times[0] == CONFIG.start
    assert (times[-1] - times[0]).total_seconds() < 16 * 3600


def test_some_sales_are_part_paid_with_loyalty_points(day: list[Emission]) -> None:
    methods = Counter(t.method for sale in of_type(day, PosSale) for t in sale.tenders)
    assert methods["loyalty_points"] > 0 and methods["card"] > methods["cash"] > 0


def test_voids_cancel_an_earlier_receipt_at_its_own_store_with_its_lines(day: list[Emission]) -> None:
    sales = {sale.receipt_id: sale for sale in of_type(day, PosSale)}
    voids = of_type(day, PosVoid)
    assert voids
    for void in voids:
        sale = sales[void.receipt_id]
        assert void.source_node == sale.source_node and void.occurred_at >= sale.occurred_at
        assert [(v.sku, v.quantity) for v in void.lines] == [(s.sku, s.quantity) for s in sale.lines]
    assert len({void.receipt_id for void in voids}) == len(voids)


def test_returns_give_back_no_more_than_the_receipt_sold(day: list[Emission]) -> None:
    sales = {sale.receipt_id: sale for sale in of_type(day, PosSale)}
    returns = of_type(day, PosReturn)
    with_receipt = [r for r in returns if r.original_receipt_id]
    for ret in with_receipt:
        sold = {line.sku: line for line in sales[ret.original_receipt_id].lines}
        assert ret.original_node == sales[ret.original_receipt_id].source_node
        for line in ret.lines:
            assert line.quantity <= sold[line.sku].quantity
            assert line.refund_cents <= sold[line.sku].net_cents
    assert any(r.source_node != r.original_node for r in with_receipt)
    assert any(r.original_receipt_id is None for r in returns)
    assert any(line.condition == "damaged" for r in returns for line in r.lines)


def test_cancellations_take_back_only_units_an_open_order_still_wants(day: list[Emission]) -> None:
    orders = {order.order_id: order for order in of_type(day, OrderPlaced)}
    wanted = {o.order_id: Counter({line.sku: line.quantity for line in o.lines}) for o in orders.values()}
    cancels = of_type(day, OrderCancelled)
    assert cancels
    fulfilled: set[str] = set()
    emptied: list[bool] = []  # per cancellation: did it cancel everything the order still wanted?
    for _, _, event in day:
        if isinstance(event, OrderShipped | OrderPickedUp):
            fulfilled.add(event.order_id)
        if not isinstance(event, OrderCancelled):
            continue
        order = orders[event.order_id]
        assert event.fulfilment_node == order.fulfilment_node and event.source_node == order.channel
        assert event.order_id not in fulfilled and sum(wanted[event.order_id].values()) > 0
        for line in event.lines:
            assert 0 < line.quantity <= wanted[event.order_id][line.sku]
            wanted[event.order_id][line.sku] -= line.quantity
        emptied.append(sum(wanted[event.order_id].values()) == 0)
    assert any(emptied) and not all(emptied)


def test_most_orders_leave_once_shipped_or_picked_up_at_their_node(day: list[Emission]) -> None:
    orders = {order.order_id: order for order in of_type(day, OrderPlaced)}
    left = Counter(event.order_id for event in of_type(day, OrderShipped) + of_type(day, OrderPickedUp))
    assert set(left.values()) == {1}
    assert len(left) > 0.7 * len(orders)
    for _, key, event in day:
        if not isinstance(event, OrderShipped | OrderPickedUp):
            continue
        order = orders[event.order_id]
        assert key == order.order_id.encode() and event.occurred_at > order.occurred_at
        assert event.fulfilment_node == event.source_node == order.fulfilment_node
        if order.delivery == "pick_up_in_store":
            assert isinstance(event, OrderPickedUp)
        else:
            assert isinstance(event, OrderShipped)
            assert event.carrier in (("courier",) if order.delivery == "same_day" else ("postnl", "dhl"))


def test_the_books_hold_exactly_the_open_orders_and_never_promise_more_than_on_hand() -> None:
    state = open_day(CONFIG)
    for _ in islice(_day(state), CONFIG.events):
        assert all(0 <= held <= state.books.on_hand[pair] for pair, held in state.books.held.items())
    open_units: Counter[tuple[str, str]] = Counter()
    for order in state.orders:
        assert any(order.lines.values())
        for sku, quantity in order.lines.items():
            open_units[(sku, order.node)] += quantity
    assert +Counter(state.books.held) == +open_units


def test_the_books_hold_release_and_commit_only_what_they_have() -> None:
    books = Books(on_hand={("s", "n"): 5})
    books.hold("s", "n", 3)
    assert books.available("s", "n") == 2 and books.on_hand[("s", "n")] == 5
    with pytest.raises(AssertionError):
        books.hold("s", "n", 3)  # only 2 available
    books.move("s", "n", -4)  # a channel that did not ask first: on hand below held
    assert books.available("s", "n") == 0  # never below zero
    books.move("s", "n", 4)
    books.release("s", "n", 1)
    assert books.available("s", "n") == 3
    books.commit("s", "n", 2)
    assert (books.on_hand[("s", "n")], books.held[("s", "n")], books.available("s", "n")) == (3, 0, 3)
    with pytest.raises(AssertionError):
        books.commit("s", "n", 1)  # nothing held any more
    with pytest.raises(AssertionError):
        books.release("s", "n", 1)
    assert ("s", "n") in books.touched


def test_the_books_never_hold_a_pair_reserved_for_the_back_room() -> None:
    books = Books()
    books.reserve_for_back_room("s", "n", 10)
    assert books.available("s", "n") == 0
    with pytest.raises(AssertionError):
        books.hold("s", "n", 1)


def test_orders_use_every_delivery_mode_and_pick_up_is_at_a_store(day: list[Emission]) -> None:
    orders = of_type(day, OrderPlaced)
    assert {order.delivery for order in orders} == {"ship_to_address", "pick_up_in_store", "same_day"}
    assert all(o.fulfilment_node.startswith("st-") for o in orders if o.delivery == "pick_up_in_store")
    assert {o.fulfilment_node[:3] for o in orders if o.delivery != "pick_up_in_store"} == {"st-", "wh-"}


def test_transfers_arrive_after_they_ship_and_some_arrive_short(day: list[Emission]) -> None:
    shipped = {t.transfer_id: t for t in of_type(day, TransferShipped)}
    received = of_type(day, TransferReceived)
    assert received
    for receipt in received:
        shipment = shipped[receipt.transfer_id]
        assert receipt.occurred_at >= shipment.eta
        assert [(r.sku, r.quantity_expected) for r in receipt.lines] == [(s.sku, s.quantity) for s in shipment.lines]
    assert any(line.quantity_received < line.quantity_expected for r in received for line in r.lines)


def test_the_same_seed_and_config_give_identical_events() -> None:
    small = SimConfig(events=400, seed=3, stores=3, skus=20, customers=30)
    assert generate(small) == generate(small)


def test_another_seed_gives_another_day() -> None:
    small = SimConfig(events=400, seed=3, stores=3, skus=20, customers=30)
    other = SimConfig(events=400, seed=4, stores=3, skus=20, customers=30)
    assert [e for _, _, e in generate(small)] != [e for _, _, e in generate(other)]


configs = st.builds(
    SimConfig,
    events=st.integers(0, 250),
    seed=st.integers(0, 2**32),
    stores=st.integers(1, 5),
    warehouses=st.integers(1, 3),
    skus=st.integers(1, 40),
    customers=st.integers(1, 25),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_generation_never_produces_an_event_its_topic_would_reject(config: SimConfig) -> None:
    day = generate(config)
    assert len(day) == config.events
    for spec, key, event in day:
        assert type(event) in spec.events and key
        assert decode(spec, encode(event), MAX_BYTES) == event
