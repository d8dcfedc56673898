"""The run report: totals recounted from the events, and stock a replay in any fair order reaches."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter, defaultdict, deque
from datetime import UTC, datetime, timedelta

import pytest

from domain.movements import movements_for
from domain.stock import replay
from sim.config import SimConfig
from sim.fraud_scenarios import SCENARIOS
from sim.publish import generate, run
from sim.report import Report, ReportBuilder, expected_movements
from sim.state import Emission
from streams.base import Event
from streams.orders import CancelledLine, OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.pos import PosSale, SaleLine
from streams.stock import StockLine, StockReceived
from streams.topics import INVENTORY_ADJUSTMENTS, WEB_ORDERS

CONFIG = SimConfig(events=2_500, seed=23, stores=5, warehouses=2, skus=60, customers=200)


@pytest.fixture(scope="module")
def day() -> list[Emission]:
    return generate(CONFIG)


@pytest.fixture(scope="module")
def report(day: list[Emission]) -> Report:
    builder = ReportBuilder(CONFIG)
    for spec, key, event in day:
        builder.add(spec, key, event)
    return builder.build()


def test_report_counts_events_per_topic_and_per_type(day: list[Emission], report: Report) -> None:
    assert report.events == len(day) == sum(report.topics.values()) == sum(report.event_types.values())
    assert report.topics == dict(Counter(spec.name for spec, _, _ in day))
    assert report.event_types == dict(Counter(event.model_dump()["type"] for _, _, event in day))


@pytest.mark.parametrize(("kind", "field"), [(PosSale, "sales"), (OrderPlaced, "orders")])
def test_report_line_totals_equal_sums_recomputed_from_the_lines(
    day: list[Emission], report: Report, kind: type[PosSale] | type[OrderPlaced], field: str
) -> None:
    events = [event for _, _, event in day if isinstance(event, kind)]
    lines = [line for event in events for line in event.lines]
    totals = getattr(report, field)
    assert totals.events == len(events) > 0
    assert totals.lines == len(lines)
    assert totals.quantity == sum(line.quantity for line in lines)
    assert totals.net_cents == sum(line.quantity * line.unit_price_cents - line.discount_cents for line in lines)


def test_expected_stock_equals_a_replay_of_every_events_movements(day: list[Emission], report: Report) -> None:
    movements = expected_movements(event for _, _, event in day)
    positions = replay(movements)
    assert report.movements == len(movements)
    assert report.expected_on_hand() == {pair: p.on_hand for pair, p in positions.items()}
    assert report.expected_damaged() == {pair: p.damaged for pair, p in positions.items()}
    assert report.on_hand_units == sum(p.on_hand for p in positions.values())
    assert report.damaged_units == sum(p.damaged for p in positions.values()) > 0


def test_orders_move_on_hand_only_when_fulfilled_by_what_was_left_of_them(day: list[Emission], report: Report) -> None:
    """Recomputed from the events alone: placements and cancellations move nothing; the first
    shipment or pick-up takes each SKU's ordered units less those cancelled before it."""
    left: dict[str, tuple[str, Counter[str]]] = {}
    taken: Counter[tuple[str, str]] = Counter()
    fulfilled = commits = 0
    for _, _, event in day:
        if isinstance(event, OrderPlaced):
            left[event.order_id] = (event.fulfilment_node, Counter())
            for line in event.lines:
                left[event.order_id][1][line.sku] += line.quantity
        elif isinstance(event, OrderCancelled) and event.order_id in left:
            for cancelled in event.lines:
                remaining = left[event.order_id][1]
                remaining[cancelled.sku] -= min(cancelled.quantity, remaining[cancelled.sku])
        elif isinstance(event, OrderShipped | OrderPickedUp):
            node, remaining = left.pop(event.order_id)
            fulfilled += 1
            for sku, quantity in remaining.items():
                taken[(sku, node)] += quantity
                commits += quantity > 0
    others = replay([m for _, _, event in day for m in movements_for(event)])
    assert fulfilled == report.fulfilled_orders > 0
    assert left, "some orders are still open (or fully cancelled) at the end of the day"
    assert report.expected_on_hand() == {pair: p.on_hand - taken[pair] for pair, p in others.items()}
    assert report.movements == sum(len(movements_for(event)) for _, _, event in day) + commits


def test_the_simulator_never_sells_stock_it_does_not_have(report: Report) -> None:
    assert min(report.expected_on_hand().values()) >= 0


def test_expected_stock_holds_in_any_order_that_keeps_each_topic_keys_own_order(
    day: list[Emission], report: Report
) -> None:
    for seed in range(5):
        shuffled = _interleave(day, random.Random(seed))
        positions = replay(expected_movements(event for _, _, event in shuffled))
        assert {pair: (p.on_hand, p.damaged) for pair, p in positions.items()} == {
            (sku, node): (on_hand, damaged) for sku, node, on_hand, damaged in report.positions
        }


def _interleave(day: list[Emission], rng: random.Random) -> list[Emission]:
    """A consumption order a pipeline may see: each (topic, key) in order, the rest at random."""
    queues: dict[tuple[str, bytes], deque[Emission]] = defaultdict(deque)
    for emission in day:
        queues[(emission[0].name, emission[1])].append(emission)
    ready = list(queues.values())
    order: list[Emission] = []
    while ready:
        queue = ready[rng.randrange(len(ready))]
        order.append(queue.popleft())
        if not queue:
            ready.remove(queue)
    return order


def test_report_survives_a_json_round_trip(report: Report) -> None:
    assert Report.from_json(report.to_json()) == report
    assert "\n" not in report.to_json()


def test_a_report_written_before_fulfilment_was_counted_still_loads(report: Report) -> None:
    older = json.loads(report.to_json())
    del older["fulfilled_orders"]
    assert Report.from_json(json.dumps(older)).fulfilled_orders == 0


def test_a_dry_run_reports_exactly_what_generate_returns_and_the_fraud_cases_it_sent(report: Report) -> None:
    dry = run(CONFIG, publish=False)
    assert dataclasses.replace(dry, fraud_cases=[]) == report
    assert {case["rule"] for case in dry.fraud_cases} <= set(SCENARIOS) and dry.fraud_cases


def test_the_same_config_gives_the_same_report_and_digest() -> None:
    small = SimConfig(events=300, seed=8, stores=2, skus=10, customers=10)
    first, second = run(small, publish=False), run(small, publish=False)
    assert first == second
    assert run(SimConfig(events=300, seed=9, stores=2, skus=10, customers=10), publish=False).digest != first.digest


def test_the_summary_names_the_totals(report: Report) -> None:
    summary = report.summary()
    assert f"{report.events} events" in summary and report.digest in summary
    assert f"fulfilled orders: {report.fulfilled_orders} shipped or picked up" in summary


T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
SMALL = SimConfig(events=0, seed=1, stores=1, warehouses=1, skus=2, customers=1)


def _report(*events: Event) -> Report:
    builder = ReportBuilder(SMALL)
    opening = StockReceived(
        event_id="open", occurred_at=T0, source_node="st-001", delivery_id="dl-open", supplier_id="opening-balance",
        lines=[StockLine(sku="SKU-A", quantity=10), StockLine(sku="SKU-B", quantity=10)],
    )
    builder.add(INVENTORY_ADJUSTMENTS, b"st-001", opening)
    for event in events:
        builder.add(WEB_ORDERS, b"or-1", event)
    return builder.build()


def _at(n: int) -> dict[str, object]:
    return {"event_id": f"e{n}", "occurred_at": T0 + timedelta(minutes=n)}


PLACED = OrderPlaced(
    **_at(1), source_node="web", order_id="or-1", channel="web", delivery="pick_up_in_store",
    fulfilment_node="st-001",
    lines=[  # SKU-A twice: one hold, and one commit, for 3 units
        SaleLine(line_no=1, sku="SKU-A", quantity=2, unit_price_cents=100),
        SaleLine(line_no=2, sku="SKU-B", quantity=2, unit_price_cents=100),
        SaleLine(line_no=3, sku="SKU-A", quantity=1, unit_price_cents=100),
    ],
)


def _cancel(n: int, **skus: int) -> OrderCancelled:
    lines = [CancelledLine(sku=sku.replace("_", "-"), quantity=q) for sku, q in skus.items()]
    return OrderCancelled(**_at(n), source_node="web", order_id="or-1", fulfilment_node="st-001",
                          reason="customer request", lines=lines)


def _shipped(n: int) -> OrderShipped:
    return OrderShipped(**_at(n), source_node="st-001", order_id="or-1", fulfilment_node="st-001", carrier="dhl")


def _picked_up(n: int) -> OrderPickedUp:
    return OrderPickedUp(**_at(n), source_node="st-001", order_id="or-1", fulfilment_node="st-001")


def test_a_placed_or_cancelled_order_moves_no_stock() -> None:
    report = _report(PLACED, _cancel(2, SKU_A=1))
    assert report.expected_on_hand() == {("SKU-A", "st-001"): 10, ("SKU-B", "st-001"): 10}
    assert (report.movements, report.fulfilled_orders) == (2, 0)


def test_a_cancelled_then_shipped_order_commits_only_what_is_left() -> None:
    # SKU-A: 3 ordered, 1 cancelled, 2 left. SKU-B: 2 ordered, 5 "cancelled" (at most 2), none left.
    report = _report(PLACED, _cancel(2, SKU_A=1, SKU_B=5), _shipped(3))
    assert report.expected_on_hand() == {("SKU-A", "st-001"): 8, ("SKU-B", "st-001"): 10}
    assert (report.movements, report.fulfilled_orders) == (3, 1)  # 2 opening lines + 1 commit


def test_only_the_first_fulfilment_counts_and_a_later_cancellation_changes_nothing() -> None:
    report = _report(PLACED, _picked_up(2), _cancel(3, SKU_A=3), _shipped(4), _picked_up(5))
    assert report.expected_on_hand() == {("SKU-A", "st-001"): 7, ("SKU-B", "st-001"): 8}
    assert (report.movements, report.fulfilled_orders) == (4, 1)


def test_a_redelivered_cancellation_counts_once() -> None:
    cancel = _cancel(2, SKU_A=1)
    report = _report(PLACED, cancel, cancel, _shipped(3))
    assert report.expected_on_hand() == {("SKU-A", "st-001"): 8, ("SKU-B", "st-001"): 8}


def test_a_shipment_after_a_full_cancellation_moves_nothing() -> None:
    report = _report(PLACED, _cancel(2, SKU_A=3, SKU_B=2), _shipped(3))
    assert report.expected_on_hand() == {("SKU-A", "st-001"): 10, ("SKU-B", "st-001"): 10}
    assert report.movements == 2


def test_commit_movements_are_numbered_from_the_fulfilment_event() -> None:
    movements = expected_movements([PLACED, _cancel(2, SKU_A=3), _shipped(3)])
    assert [(m.event_id, m.sku, m.node, m.kind, m.quantity, m.cause_type) for m in movements] == [
        ("e3:0", "SKU-B", "st-001", "hold_commit", -2, "order.shipped"),
    ]
