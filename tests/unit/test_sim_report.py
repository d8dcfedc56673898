"""The run report: totals recounted from the events, and stock a replay in any fair order reaches."""

from __future__ import annotations

import random
from collections import Counter, defaultdict, deque

import pytest

from domain.movements import movements_for
from domain.stock import replay
from sim.config import SimConfig
from sim.publish import generate, run
from sim.report import Report, ReportBuilder
from sim.state import Emission
from streams.orders import OrderPlaced
from streams.pos import PosSale

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
    movements = [movement for _, _, event in day for movement in movements_for(event)]
    positions = replay(movements)
    assert report.movements == len(movements)
    assert report.expected_on_hand() == {pair: p.on_hand for pair, p in positions.items()}
    assert report.expected_damaged() == {pair: p.damaged for pair, p in positions.items()}
    assert report.on_hand_units == sum(p.on_hand for p in positions.values())
    assert report.damaged_units == sum(p.damaged for p in positions.values()) > 0


def test_the_simulator_never_sells_stock_it_does_not_have(report: Report) -> None:
    assert min(report.expected_on_hand().values()) >= 0


def test_expected_stock_holds_in_any_order_that_keeps_each_topic_keys_own_order(
    day: list[Emission], report: Report
) -> None:
    for seed in range(5):
        shuffled = _interleave(day, random.Random(seed))
        positions = replay([m for _, _, event in shuffled for m in movements_for(event)])
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


def test_a_dry_run_reports_exactly_what_generate_returns(report: Report) -> None:
    assert run(CONFIG, publish=False) == report


def test_the_same_config_gives_the_same_report_and_digest() -> None:
    small = SimConfig(events=300, seed=8, stores=2, skus=10, customers=10)
    first, second = run(small, publish=False), run(small, publish=False)
    assert first == second
    assert run(SimConfig(events=300, seed=9, stores=2, skus=10, customers=10), publish=False).digest != first.digest


def test_the_summary_names_the_totals(report: Report) -> None:
    summary = report.summary()
    assert f"{report.events} events" in summary and report.digest in summary
