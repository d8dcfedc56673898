"""The order saga against the real pure authority, over random interleavings and redeliveries.

A small world: one SKU log per SKU (applied by `domain.authority.apply`), one answers topic
and one orders topic (decided by `domain.orders.decide`). Hypothesis picks which log delivers
next and which record is delivered twice. Whatever the order:

- no node ever has more units held than it can promise;
- each order's first status is `accepted` or `rejected`, and no status repeats;
- once everything is delivered: an accepted order holds every line at the authority, a
  rejected one holds nothing, and no order has an unanswered command;
- on hand falls by exactly the units of shipped orders (and till sales).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.authority import dedupes_by_id
from domain.orders import OrderState, SagaCommand, decide, hold_id_for
from domain.stock import Position, SkuStock
from streams.base import Event
from streams.holds import HoldAnswered
from streams.inventory import StockMovement
from streams.orders import CancelledLine, OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped, OrderStatusChanged
from streams.pos import SaleLine
from tables.stock_once import apply

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NODE = "store-001"
SKUS = ("SKU-A", "SKU-B", "SKU-C")


def ttl(_delivery: str) -> timedelta:
    return timedelta(days=3)


@dataclass
class World:
    stocks: dict[str, SkuStock]
    sku_logs: dict[str, list[object]] = field(default_factory=dict)  # the whole log, by offset
    sku_next: dict[str, int] = field(default_factory=dict)  # next offset to deliver
    first: dict[str, int] = field(default_factory=dict)
    answers: list[HoldAnswered] = field(default_factory=list)
    answers_next: int = 0
    orders_log: list[Event] = field(default_factory=list)
    orders_next: int = 0
    sagas: dict[str, OrderState] = field(default_factory=dict)
    statuses: list[OrderStatusChanged] = field(default_factory=list)
    clock: int = 0

    def send_command(self, command: SagaCommand | StockMovement) -> None:
        self.sku_logs.setdefault(command.sku, []).append(command)

    def deliver_sku(self, sku: str, again: bool, lose_output: bool = False) -> None:
        log = self.sku_logs.get(sku, [])
        offset = self.sku_next.get(sku, 0) - (1 if again else 0)
        if offset < 0 or offset >= len(log):
            return
        command = log[offset]
        dedupe = dedupes_by_id(command)  # type: ignore[arg-type]
        seen = self.first.get(command.event_id) if dedupe else None  # type: ignore[attr-defined]
        out = apply(self.stocks[sku], command, offset, seen, flushed_below=offset)  # type: ignore[arg-type]
        if out.verdict == "applied":
            self.stocks[sku] = out.stock
        if out.remember_first_offset is not None:
            self.first[command.event_id] = out.remember_first_offset  # type: ignore[attr-defined]
        if not lose_output:
            self.answers.extend(out.answers)
        if not again:
            self.sku_next[sku] = offset + 1
        for position in self.stocks[sku].positions.values():
            assert position.held <= max(0, position.on_hand - position.safety), f"oversold {sku}: {position}"

    def deliver_saga(self, log: list, next_attr: str, topic: str, again: bool, lose_output: bool = False) -> None:
        offset = getattr(self, next_attr) - (1 if again else 0)
        if offset < 0 or offset >= len(log):
            return
        event = log[offset]
        state = self.sagas.get(event.order_id)
        step = decide(state, event, topic, offset, ttl)
        if step.state is not None and step.verdict == "applied":
            self.sagas[event.order_id] = step.state
        if lose_output:  # a crash after the table write, before the sends reached Kafka
            return
        for command in step.commands:
            self.send_command(command)
        self.statuses.extend(step.statuses)
        if not again:
            setattr(self, next_attr, offset + 1)

    def pending(self) -> bool:
        return (
            any(self.sku_next.get(s, 0) < len(log) for s, log in self.sku_logs.items())
            or self.answers_next < len(self.answers)
            or self.orders_next < len(self.orders_log)
        )

    def ready(self) -> list[int]:
        """Sources (as `step` numbers them) that have a record to deliver."""
        ready = [i for i, sku in enumerate(SKUS) if self.sku_next.get(sku, 0) < len(self.sku_logs.get(sku, []))]
        if self.answers_next < len(self.answers):
            ready.append(3)
        if self.orders_next < len(self.orders_log):
            ready.append(4)
        return ready

    def step(self, choice: int, again: bool, lose_output: bool = False) -> None:
        sources = [*SKUS, "answers", "orders"]
        source = sources[choice % len(sources)]
        if source == "answers":
            self.deliver_saga(self.answers, "answers_next", "inventory.hold-answers", again, lose_output)
        elif source == "orders":
            self.deliver_saga(self.orders_log, "orders_next", "web.orders", again, lose_output)
        else:
            self.deliver_sku(source, again, lose_output)


def _at(n: int) -> datetime:
    return T0 + timedelta(seconds=n)


order_lines = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=4)
follow_up = st.sampled_from(["none", "cancel_all", "cancel_part", "ship", "pickup"])
orders = st.lists(st.tuples(order_lines, follow_up), min_size=1, max_size=6)
initial = st.fixed_dictionaries({sku: st.integers(0, 6) for sku in SKUS})
till_sales = st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 2)), max_size=3)


def _build(stock: dict[str, int], wanted: list, sales: list) -> World:
    world = World(stocks={
        sku: SkuStock(sku=sku, positions={NODE: Position(on_hand=q)}) for sku, q in stock.items()
    })
    n = 0
    for i, (lines, then) in enumerate(wanted):
        order_id = f"or-{i}"
        n += 1
        world.orders_log.append(OrderPlaced(
            event_id=f"ev-{n}", occurred_at=_at(n), source_node="web", order_id=order_id, channel="web",
            delivery="pick_up_in_store" if then == "pickup" else "ship_to_address", fulfilment_node=NODE,
            ship_to=None if then == "pickup" else {"postcode": "1011AB", "country": "NL"},
            lines=[
                SaleLine(line_no=k + 1, sku=sku, quantity=q, unit_price_cents=100) for k, (sku, q) in enumerate(lines)
            ],
        ))
        n += 1
        if then in ("cancel_all", "cancel_part"):
            cancel = lines if then == "cancel_all" else lines[:1]
            quantity = (lambda q: q) if then == "cancel_all" else (lambda q: 1)
            world.orders_log.append(OrderCancelled(
                event_id=f"ev-{n}", occurred_at=_at(n), source_node="web", order_id=order_id,
                fulfilment_node=NODE, reason="customer request",
                lines=[CancelledLine(sku=sku, quantity=quantity(q)) for sku, q in cancel],
            ))
        elif then == "ship":
            world.orders_log.append(OrderShipped(
                event_id=f"ev-{n}", occurred_at=_at(n), source_node=NODE, order_id=order_id, fulfilment_node=NODE,
            ))
        elif then == "pickup":
            world.orders_log.append(OrderPickedUp(
                event_id=f"ev-{n}", occurred_at=_at(n), source_node=NODE, order_id=order_id, fulfilment_node=NODE,
            ))
    for k, (sku, q) in enumerate(sales):
        world.send_command(StockMovement(
            event_id=f"sale-{k}:0", occurred_at=_at(k), source_node=NODE, sku=sku, node=NODE, kind="sale",
            quantity=-q, cause_event_id=f"sale-{k}", cause_type="pos.sale",
        ))
    return world


@settings(max_examples=300, deadline=None)
@given(stock=initial, wanted=orders, sales=till_sales, data=st.data())
def test_orders_are_all_or_nothing_under_any_interleaving(stock, wanted, sales, data) -> None:
    world = _build(stock, wanted, sales)
    steps = 0
    while world.pending():
        steps += 1
        assert steps < 5_000, "the saga does not settle"
        choice = data.draw(st.sampled_from(world.ready()), label="source")
        fate = data.draw(st.integers(0, 5), label="fate")
        world.step(choice, False, lose_output=fate == 5)
        if fate >= 4:  # delivered once more: a plain redelivery, or after a crash lost the sends
            world.step(choice, True)

    by_order: dict[str, list[str]] = {}
    for status in world.statuses:
        by_order.setdefault(status.order_id, []).append(status.status)
    for order_id, state in world.sagas.items():
        seen = list(dict.fromkeys(by_order[order_id]))  # re-sent statuses carry the same id
        assert seen[0] in ("accepted", "rejected", "cancelled", "shipped", "picked_up"), seen
        assert len(seen) == len(set(seen))
        assert state.outbox == {}, f"{order_id} still waits for {list(state.outbox)}"
        holds = {
            sku: world.stocks[sku].holds.get(hold_id_for(order_id, sku)) for sku in state.lines
        }
        if state.status == "accepted":
            for sku, line in state.lines.items():
                hold = holds[sku]
                assert line.quantity == 0 or (hold is not None and hold.status == "granted"), (order_id, sku, hold)
                if hold is not None and hold.status == "granted":
                    assert hold.quantity == line.quantity
        if state.status in ("rejected", "cancelled"):
            granted = [sku for sku, h in holds.items() if h is not None and h.status == "granted"]
            assert not granted, f"{order_id} {state.status} but still holds {granted}"

    # Units: what left is what was sold at the till and what the shipped orders still wanted.
    for sku in SKUS:
        shipped = sum(
            state.lines[sku].quantity for state in world.sagas.values()
            if sku in state.lines and state.status in ("shipped", "picked_up")
        )
        sold = sum(q for s, q in sales if s == sku)
        assert world.stocks[sku].position(NODE).on_hand == stock[sku] - sold - shipped
        open_held = sum(
            h.quantity for h in world.stocks[sku].holds.values() if h.status == "granted"
        )
        assert world.stocks[sku].position(NODE).held == open_held


def test_same_sku_on_two_lines_is_one_hold_for_the_sum() -> None:
    world = _build({"SKU-A": 3, "SKU-B": 0, "SKU-C": 0}, [([("SKU-A", 2), ("SKU-A", 2)], "none")], [])
    while world.pending():
        world.step(4, False)
        world.step(0, False)
        world.step(3, False)
    assert [s.status for s in world.statuses] == ["rejected"]
    assert "insufficient stock: 3 available to promise, 4 requested" in world.statuses[0].reason


def test_one_short_line_rejects_the_order_and_releases_the_rest() -> None:
    world = _build({"SKU-A": 5, "SKU-B": 1, "SKU-C": 5}, [([("SKU-A", 2), ("SKU-B", 2), ("SKU-C", 1)], "none")], [])
    while world.pending():
        for source in (4, 0, 1, 2, 3):
            world.step(source, False)
    assert [s.status for s in world.statuses] == ["rejected"]
    assert world.statuses[0].reason.startswith("SKU-B: insufficient stock")
    for sku in SKUS:
        assert world.stocks[sku].position(NODE).held == 0
        assert world.stocks[sku].position(NODE).atp == {"SKU-A": 5, "SKU-B": 1, "SKU-C": 5}[sku]


def test_a_pickup_hold_that_expires_is_a_no_show_and_frees_the_units() -> None:
    world = _build({"SKU-A": 2, "SKU-B": 2, "SKU-C": 0}, [([("SKU-A", 1), ("SKU-B", 2)], "none")], [])
    world.orders_log[0] = world.orders_log[0].model_copy(update={"delivery": "pick_up_in_store", "ship_to": None})
    while world.pending():
        for source in (4, 0, 1, 3):
            world.step(source, False)
    assert [s.status for s in world.statuses] == ["accepted"]
    # Three days later a till sells one unit of SKU-A: the log's time passes the pick-up window.
    world.send_command(StockMovement(
        event_id="late:0", occurred_at=T0 + timedelta(days=4), source_node=NODE, sku="SKU-A", node=NODE,
        kind="sale", quantity=-1, cause_event_id="late", cause_type="pos.sale",
    ))
    while world.pending():
        for source in (0, 3, 1):
            world.step(source, False)
    assert [s.status for s in world.statuses] == ["accepted", "no_show"]
    assert world.stocks["SKU-A"].position(NODE).held == 0
    assert world.stocks["SKU-B"].position(NODE).held == 0  # released by the saga, not left to expire
    assert world.stocks["SKU-B"].position(NODE).atp == 2


def test_shipping_after_the_hold_expired_still_takes_the_units_once() -> None:
    world = _build({"SKU-A": 2, "SKU-B": 0, "SKU-C": 0}, [([("SKU-A", 2)], "ship")], [])
    world.orders_log[1] = world.orders_log[1].model_copy(update={"occurred_at": T0 + timedelta(days=10)})
    world.step(4, False)  # placed
    world.step(0, False)  # granted
    world.step(3, False)
    world.step(4, False)  # shipped ten days later: the hold expired first
    world.step(0, False)
    world.step(0, True)  # the commit delivered twice
    world.step(3, False)
    world.step(3, False)
    assert world.stocks["SKU-A"].position(NODE).on_hand == 0
    assert world.stocks["SKU-A"].holds[hold_id_for("or-0", "SKU-A")].status == "expired"
    assert [s.status for s in world.statuses][:2] == ["accepted", "shipped"]
