"""Sourced orders in the saga against the real pure authority, over random interleavings, redeliveries and crashes.

Orders without a node are sourced from a snapshot that lags the authority (it is read when the
order is decided, while other orders' holds are in flight), so holds are refused and orders
decided again. Stores reject assignments and pick short. Whatever the order of delivery:

- no node ever holds more stock, or more capacity in a slot, than it has (the authority's promise);
- each order's first status is accepted, rejected or waiting, and no status repeats;
- once everything is delivered: an accepted order holds exactly its active lines (stock and
  capacity); a rejected or cancelled one holds nothing; no order waits for an answer; and no
  hold granted to an order is left open unless the order's state knows it (strays are released).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.authority import dedupes_by_id
from domain.fulfilment.capacity import capacity_sku, is_capacity, slot_of
from domain.fulfilment.sourcing import Decision, Request
from domain.orders import OrderState, decide
from domain.orders.sourcing import Sourced
from domain.stock import Position, SkuStock
from streams.fulfilment import PlannedLine, Shipment, StoreResponded
from streams.orders import CancelledLine, OrderCancelled, OrderPlaced, OrderShipped, OrderStatusChanged, ShippingAddress
from streams.pos import SaleLine
from tables.stock_once import apply

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NODES = ("store-a", "store-b", "dc-north")
SKUS = ("SKU-AAA", "SKU-BBB")
SLOT = slot_of(T0)
CAPS = {node: capacity_sku(node, "ship", SLOT) for node in NODES}


def ttl(_delivery: str) -> timedelta:
    return timedelta(days=3)


class StaleSnapshot:
    """ATP as the world's authority had it when the snapshot was last refreshed."""

    def __init__(self) -> None:
        self.atp_by_sku: dict[str, dict[str, int]] = {}

    def refresh(self, stocks: Mapping[str, SkuStock]) -> None:
        self.atp_by_sku = {sku: {n: p.atp for n, p in s.positions.items()} for sku, s in stocks.items()}

    def source(self, request: Request) -> Sourced:
        """Single node first (in NODES order), else a two-node split; capacity 1 an order."""
        def fits(node: str, sku: str, quantity: int) -> bool:
            return (node not in request.excluded and f"{sku}@{node}" not in request.excluded
                    and self.atp_by_sku.get(sku, {}).get(node, 0) >= quantity)

        def capacity(node: str) -> bool:
            return self.atp_by_sku.get(CAPS[node], {}).get(node, 0) >= 1

        nodes = [n for n in NODES if capacity(n) and n not in request.excluded]
        plan: dict[str, list[PlannedLine]] = {}
        for node in nodes:
            if all(fits(node, line.sku, line.quantity) for line in request.lines):
                plan = {node: [PlannedLine(sku=line.sku, quantity=line.quantity) for line in request.lines]}
                break
        else:
            for line in request.lines:
                node = next((n for n in nodes if fits(n, line.sku, line.quantity)), None)
                if node is None:
                    return Sourced(Decision("rejected", f"{line.sku}: no node has {line.quantity}"), "test", 1, 1, 3)
                plan.setdefault(node, []).append(PlannedLine(sku=line.sku, quantity=line.quantity))
        shipments = tuple(
            Shipment(node=node, method="ship", lines=lines, slot_start=SLOT, ready_at=T0, promised_at=T0, km=1.0,
                     cost_cents=100, capacity_units=1)
            for node, lines in sorted(plan.items())
        )
        return Sourced(Decision("planned", "", shipments), "test", 1, 1, max_attempts=3)


@dataclass
class World:
    stocks: dict[str, SkuStock]
    snapshot: StaleSnapshot = field(default_factory=StaleSnapshot)
    logs: dict[str, list[object]] = field(default_factory=dict)  # SKU logs, "answers", "orders"
    next: dict[str, int] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    sagas: dict[str, OrderState] = field(default_factory=dict)
    statuses: list[OrderStatusChanged] = field(default_factory=list)

    def send(self, topic: str, record: object) -> None:
        self.logs.setdefault(topic, []).append(record)

    def ready(self) -> list[str]:
        return sorted(t for t, log in self.logs.items() if self.next.get(t, 0) < len(log))

    def step(self, topic: str, again: bool, lose_output: bool) -> None:
        log = self.logs[topic]
        offset = self.next.get(topic, 0) - (1 if again else 0)
        if offset < 0:
            return
        if topic in ("answers", "orders"):
            self._saga(log[offset], topic, offset, lose_output)
        else:
            self._sku(topic, log[offset], offset, lose_output)
        if not again:
            self.next[topic] = offset + 1

    def _sku(self, sku: str, command: object, offset: int, lose_output: bool) -> None:
        seen = self.first.get(command.event_id) if dedupes_by_id(command) else None  # type: ignore[arg-type,attr-defined]
        out = apply(self.stocks.setdefault(sku, SkuStock(sku=sku)), command, offset, seen,  # type: ignore[arg-type]
                    flushed_below=offset)
        if out.verdict == "applied":
            self.stocks[sku] = out.stock
        if out.remember_first_offset is not None:
            self.first[command.event_id] = out.remember_first_offset  # type: ignore[attr-defined]
        if not lose_output:
            for answer in out.answers:
                self.send("answers", answer)
        for node, position in self.stocks[sku].positions.items():
            assert position.held <= max(0, position.on_hand - position.safety), f"oversold {sku}@{node}: {position}"

    def _saga(self, event: object, topic: str, offset: int, lose_output: bool) -> None:
        order_id = event.order_id  # type: ignore[attr-defined]
        step = decide(self.sagas.get(order_id), event, topic, offset, ttl, self.snapshot.source)  # type: ignore[arg-type]
        if step.state is not None and step.verdict in ("applied", "redelivered"):
            self.sagas[order_id] = step.state
        if lose_output:
            return
        for command in step.commands:
            self.send(command.sku, command)
        self.statuses.extend(step.statuses)


def _order(n: int, lines: list[tuple[str, int]]) -> OrderPlaced:
    return OrderPlaced(
        event_id=f"ev-{n}", occurred_at=T0 + timedelta(seconds=n), source_node="web", order_id=f"or-{n}",
        channel="web", delivery="ship_to_address",
        ship_to=ShippingAddress(postcode="1011AB", country="NL", lat=52.37, lon=4.9),
        lines=[SaleLine(line_no=k + 1, sku=sku, quantity=q, unit_price_cents=500) for k, (sku, q) in enumerate(lines)],
    )


def _world(stock: dict[tuple[str, str], int], capacity: dict[str, int]) -> World:
    stocks: dict[str, SkuStock] = {}
    for (sku, node), units in stock.items():
        s = stocks.setdefault(sku, SkuStock(sku=sku))
        stocks[sku] = s.model_copy(update={"positions": {**s.positions, node: Position(on_hand=units)}})
    for node, units in capacity.items():
        stocks[CAPS[node]] = SkuStock(sku=CAPS[node], positions={node: Position(on_hand=units)})
    world = World(stocks=stocks)
    world.snapshot.refresh(stocks)
    return world


stock_levels = st.fixed_dictionaries({(sku, node): st.integers(0, 3) for sku in SKUS for node in NODES})
capacities = st.fixed_dictionaries({node: st.integers(0, 3) for node in NODES})
order_lines = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 2)), min_size=1, max_size=2,
                       unique_by=lambda t: t[0])
follow_ups = st.sampled_from(["none", "ship", "reject", "short"])


@settings(max_examples=250, deadline=None)
@given(stock=stock_levels, capacity=capacities, wanted=st.lists(st.tuples(order_lines, follow_ups), min_size=1,
                                                                 max_size=5), data=st.data())
def test_sourced_orders_never_overcommit_and_end_holding_exactly_their_plan(stock, capacity, wanted, data) -> None:
    world = _world(stock, capacity)
    n = 0
    for lines, then in wanted:
        n += 1
        placed = _order(n, lines)
        world.send("orders", placed)
        if then == "ship":
            world.send("orders", OrderShipped(event_id=f"ship-{n}", occurred_at=placed.occurred_at + timedelta(hours=1),
                                              source_node="dc-north", order_id=placed.order_id))
        elif then in ("reject", "short"):
            node = data.draw(st.sampled_from(NODES), label="responding node")
            world.send("orders", StoreResponded(
                event_id=f"resp-{n}", occurred_at=placed.occurred_at + timedelta(minutes=5), source_node=node,
                order_id=placed.order_id, node=node, response="rejected" if then == "reject" else "short_pick",
                lines=[PlannedLine(sku=lines[0][0], quantity=1)] if then == "short" else [], reason="no staff",
            ))
    steps = 0
    while world.ready():
        steps += 1
        assert steps < 5_000, "the saga does not settle"
        topic = data.draw(st.sampled_from(world.ready()), label="topic")
        fate = data.draw(st.integers(0, 7), label="fate")
        world.step(topic, False, lose_output=fate == 7)
        if fate >= 6:
            world.step(topic, True, lose_output=False)
        if data.draw(st.booleans(), label="refresh snapshot"):
            world.snapshot.refresh(world.stocks)

    by_order: dict[str, list[str]] = {}
    for status in world.statuses:
        by_order.setdefault(status.order_id, []).append(status.status)
    granted = {(h.order_id, h.hold_id): (sku, h) for sku, s in world.stocks.items() for h in s.holds.values()
               if h.status == "granted"}
    for order_id, state in world.sagas.items():
        seen = list(dict.fromkeys(by_order.get(order_id, [])))
        assert seen and seen[0] in ("accepted", "rejected", "shipped"), (order_id, seen)
        assert len(seen) == len(set(seen))
        assert state.outbox == {}, f"{order_id} still waits for {list(state.outbox)}"
        mine = {hold_id for (oid, hold_id) in granted if oid == order_id}
        active = {ln.hold_id for ln in state.current() if ln.quantity > 0 and not ln.shipped}
        if state.status in ("rejected", "cancelled"):
            assert not mine, f"{order_id} {state.status} but still holds {mine}: {state.model_dump_json(indent=1)}"
        if state.status == "accepted":
            assert active and mine == active, (order_id, mine, active)
            assert state.attempt <= state.max_attempts
        assert mine <= active, f"{order_id} holds {mine - active} it does not know"
        event(f"{state.status} after {state.attempt} attempt(s)")


def test_a_refused_hold_is_decided_again_without_that_node() -> None:
    world = _world({("SKU-AAA", "store-a"): 1, ("SKU-AAA", "dc-north"): 5}, {n: 5 for n in NODES})
    world.snapshot.atp_by_sku["SKU-AAA"]["store-a"] = 3  # stale: the snapshot still sees 3
    world.send("orders", _order(1, [("SKU-AAA", 2)]))
    while world.ready():
        for topic in world.ready():
            world.step(topic, False, False)
    state = world.sagas["or-1"]
    assert [s.status for s in world.statuses] == ["accepted"]
    assert state.attempt == 2 and "SKU-AAA@store-a" in state.excluded
    assert {ln.node for ln in state.current()} == {"dc-north"}
    assert world.stocks["SKU-AAA"].position("store-a").held == 0


def test_a_store_that_rejects_its_part_has_it_sourced_elsewhere_and_its_capacity_released() -> None:
    world = _world({("SKU-AAA", "store-a"): 2, ("SKU-AAA", "dc-north"): 2}, {n: 1 for n in NODES})
    world.send("orders", _order(1, [("SKU-AAA", 1)]))
    while world.ready():
        for topic in world.ready():
            world.step(topic, False, False)
    assert world.sagas["or-1"].nodes == ["store-a"]
    world.send("orders", StoreResponded(event_id="r-1", occurred_at=T0 + timedelta(minutes=3), source_node="store-a",
                                        order_id="or-1", node="store-a", response="rejected", reason="no staff"))
    world.snapshot.refresh(world.stocks)
    while world.ready():
        for topic in world.ready():
            world.step(topic, False, False)
    state = world.sagas["or-1"]
    assert state.nodes == ["dc-north"] and state.status == "accepted"
    assert world.stocks[CAPS["store-a"]].position("store-a").held == 0
    assert world.stocks[CAPS["dc-north"]].position("dc-north").held == 1
    assert world.stocks["SKU-AAA"].position("store-a").held == 0


def _settle(world: World) -> None:
    while world.ready():
        for topic in world.ready():
            world.step(topic, False, False)


def _split_world() -> World:
    world = _world({("SKU-AAA", "store-a"): 2, ("SKU-BBB", "store-b"): 2}, {n: 2 for n in NODES})
    world.send("orders", _order(1, [("SKU-AAA", 1), ("SKU-BBB", 1)]))
    _settle(world)
    assert world.sagas["or-1"].nodes == ["store-a", "store-b"] and world.sagas["or-1"].status == "accepted"
    return world


def _held(world: World, sku: str, node: str) -> int:
    return world.stocks[sku].position(node).held


def test_a_split_order_shipped_at_one_node_and_cancelled_at_the_other_frees_that_nodes_capacity() -> None:
    world = _split_world()
    later = T0 + timedelta(hours=1)
    world.send("orders", OrderShipped(event_id="ship-a", occurred_at=later, source_node="store-a", order_id="or-1",
                                      fulfilment_node="store-a"))
    world.send("orders", OrderCancelled(event_id="cancel-b", occurred_at=later, source_node="web", order_id="or-1",
                                        reason="changed my mind", lines=[CancelledLine(sku="SKU-BBB", quantity=1)]))
    _settle(world)
    assert [s.status for s in world.statuses] == ["accepted", "shipped"]
    assert _held(world, CAPS["store-b"], "store-b") == 0 and _held(world, "SKU-BBB", "store-b") == 0
    assert world.stocks[CAPS["store-a"]].position("store-a").on_hand == 1  # store-a's slot was used


def test_a_short_pick_naming_nothing_the_node_holds_changes_nothing() -> None:
    world = _split_world()
    for n, lines in enumerate(([], [PlannedLine(sku="SKU-BBB", quantity=3)])):  # nothing; a SKU store-a lacks
        world.send("orders", StoreResponded(event_id=f"short-{n}", occurred_at=T0 + timedelta(minutes=5),
                                            source_node="store-a", order_id="or-1", node="store-a",
                                            response="short_pick", lines=lines, reason="miscount"))
    _settle(world)
    assert [s.status for s in world.statuses] == ["accepted"]
    assert world.sagas["or-1"].attempt == 1
    assert _held(world, "SKU-AAA", "store-a") == 1 and _held(world, "SKU-BBB", "store-b") == 1


def test_an_order_of_more_units_than_one_hold_may_promise_is_rejected_not_a_crash() -> None:
    world = _world({("SKU-AAA", "dc-north"): 5}, {n: 5 for n in NODES})
    world.send("orders", _order(1, [("SKU-AAA", 60_000), ("SKU-AAA", 60_000)]).model_copy(
        update={"lines": [SaleLine(line_no=k, sku="SKU-AAA", quantity=60_000, unit_price_cents=1) for k in (1, 2)]}))
    _settle(world)
    assert [s.status for s in world.statuses] == ["rejected"]
    assert "more than 100,000 units" in world.statuses[0].reason


def test_a_product_named_like_a_capacity_prefix_is_stock() -> None:
    assert not is_capacity("CAP-RED-XL") and is_capacity(CAPS["store-a"])
