"""The pure parts of `python -m bench.pipeline`: what it expects, how it reads metrics, what it prints."""

from __future__ import annotations

import json

import pytest

from bench import scrape
from bench.diagnose import Commits, slow_commits
from bench.floor import FloorResult
from bench.result import RESULT_KEYS, Measured, result_line
from bench.workload import Expected, SimConfig, expected_for, generate
from streams.orders import OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.pos import PosReturn, PosSale
from streams.stock import StockReceived

SMALL_DAY = SimConfig(events=400, seed=3, stores=3, warehouses=1, skus=20, customers=50, run="bench-test")


@pytest.fixture(scope="module")
def day() -> list:  # type: ignore[type-arg]
    return [event for _, _, event in generate(SMALL_DAY)]


def first(events: list, kind: type) -> object:  # type: ignore[type-arg]
    return next(event for event in events if isinstance(event, kind))


def test_a_till_sale_expects_one_movement_and_one_sales_row_per_line(day: list) -> None:  # type: ignore[type-arg]
    sale = first(day, PosSale)
    lines = len(sale.lines)  # type: ignore[attr-defined]
    assert expected_for([sale]) == Expected(events=1, movements=lines, sales_lines=lines, return_lines=0)


def test_an_online_order_counts_as_sales_lines_and_a_return_as_return_lines(day: list) -> None:  # type: ignore[type-arg]
    order, ret = first(day, OrderPlaced), first(day, PosReturn)
    got = expected_for([order, ret])
    assert got.sales_lines == len(order.lines)  # type: ignore[attr-defined]
    assert got.return_lines == len(ret.lines)  # type: ignore[attr-defined]
    assert got.movements == len(ret.lines)  # type: ignore[attr-defined]  # placing an order only holds


def test_a_fulfilled_order_expects_one_ledger_entry_per_sku_it_still_wants(day: list) -> None:  # type: ignore[type-arg]
    orders = {e.order_id: e for e in day if isinstance(e, OrderPlaced)}
    cancelled = {e.order_id for e in day if isinstance(e, OrderCancelled)}
    left = [e for e in day if isinstance(e, OrderShipped | OrderPickedUp)]
    whole = next(e for e in left if e.order_id not in cancelled)
    order = orders[whole.order_id]
    skus = len({line.sku for line in order.lines})
    assert expected_for([order, whole]).movements == skus  # the commits of its holds
    assert expected_for([whole]).movements == 0  # a shipment of an unknown order commits nothing
    assert expected_for([order, whole, whole]).movements == skus  # nor does a second one


def test_opening_stock_expects_one_movement_per_node_and_sku(day: list) -> None:  # type: ignore[type-arg]
    opening = [e for e in day if isinstance(e, StockReceived) and e.supplier_id == "opening-balance"]
    nodes = SMALL_DAY.stores + SMALL_DAY.warehouses
    assert expected_for(opening).movements == nodes * SMALL_DAY.skus


def test_price_changes_and_identifier_links_expect_nothing_downstream(day: list) -> None:  # type: ignore[type-arg]
    quiet = [e for e in day if e.type in ("price.changed", "customer.identifier_linked")]
    assert quiet
    got = expected_for(quiet)
    assert (got.events, got.movements, got.sales_lines, got.return_lines) == (len(quiet), 0, 0, 0)


def test_the_json_line_starts_with_the_agreed_keys_and_rates_use_the_right_clock() -> None:
    m = Measured(events=3000, movements=60_000, publish_s=2.0, worker_s=40.0, sink_s=50.0, floor_per_s=6000.0)
    line = result_line(m, quick=True, kafka="4.1.1", cpus=2, commit="abc1234")
    assert tuple(line)[: len(RESULT_KEYS)] == RESULT_KEYS
    assert line["events_per_s"] == 60.0  # source events over time to (b), DuckDB complete
    assert line["worker_events_per_s"] == 75.0  # source events over time to (a)
    assert line["movements_per_s"] == 1500.0
    assert line["publish_per_s"] == 1500.0
    assert line["ratio"] == 0.01
    assert json.loads(json.dumps(line)) == line


PAGE = """\
# TYPE omnistream_stock_movements_total counter
omnistream_stock_movements_total{verdict="applied"} 7.0
omnistream_stock_movements_total{verdict="duplicate"} 2.0
# TYPE omnistream_sink_projection_lag_seconds histogram
omnistream_sink_projection_lag_seconds_bucket{le="0.5"} 50.0
omnistream_sink_projection_lag_seconds_bucket{le="1.0"} 90.0
omnistream_sink_projection_lag_seconds_bucket{le="+Inf"} 100.0
omnistream_sink_projection_lag_seconds_count 100.0
omnistream_sink_projection_lag_seconds_sum 42.0
"""


def test_counters_are_read_by_label_and_summed_without_one() -> None:
    samples = scrape.parse(PAGE)
    assert scrape.total(samples, "omnistream_stock_movements_total", verdict="applied") == 7.0
    assert scrape.total(samples, "omnistream_stock_movements_total") == 9.0


def test_quantiles_interpolate_inside_the_bucket_like_prometheus() -> None:
    cumulative = scrape.buckets(scrape.parse(PAGE), "omnistream_sink_projection_lag_seconds")
    assert scrape.quantile(0.5, cumulative) == pytest.approx(0.5)
    assert scrape.quantile(0.7, cumulative) == pytest.approx(0.75)
    assert scrape.quantile(0.99, cumulative) == 1.0  # in +Inf: the last finite bound is all we know
    assert scrape.quantile(0.5, []) is None


def test_slow_commits_are_counted_from_the_worker_log_with_the_longest_runtime() -> None:
    log = "\n".join([
        "2026-11-26 17:23:36,421 WARNING mode.timers: Timer commit is overlapping (interval=1.0 runtime=2.502)",
        "2026-11-26 17:23:40,000 INFO    faust.worker: ready",
        "2026-11-26 17:24:00,431 WARNING mode.timers: Timer commit is overlapping (interval=1.0 runtime=23.0375)",
    ])
    assert slow_commits(log) == Commits(overlapping=2, longest_s=23.0375)
    assert slow_commits("") == Commits(overlapping=0, longest_s=0.0)


def test_the_json_line_carries_the_cores_each_process_used_until_the_worker_was_done() -> None:
    cores = {"worker": 0.9, "broker-1": 0.2, "broker-2": 0.1, "machine": 1.6}
    m = Measured(events=3000, movements=6000, publish_s=2.0, worker_s=10.0, sink_s=12.0, floor_per_s=6000.0,
                 cores=cores)
    assert result_line(m, quick=True, kafka="4.1.1", cpus=2, commit="abc1234")["cores"] == cores
    without = Measured(events=3000, movements=6000, publish_s=2.0, worker_s=10.0, sink_s=12.0, floor_per_s=6000.0)
    assert "cores" not in result_line(without, quick=True, kafka="4.1.1", cpus=2, commit="abc1234")


def test_the_floor_reports_its_single_acknowledged_writes_as_percentiles_in_ms() -> None:
    probed = FloorResult(records=3000, seconds=1.5, acks_s=tuple(i / 1000 for i in range(1, 101)))
    assert probed.ack_fields() == {"produce_ack_p50_ms": 50.5, "produce_ack_p99_ms": 99.0}
    assert "p50 50.5 ms" in probed.describe() and "2000/s" in probed.describe()
    unprobed = FloorResult(records=3000, seconds=1.5)
    assert unprobed.ack_fields() == {"produce_ack_p50_ms": None, "produce_ack_p99_ms": None}
    assert "acknowledged" not in unprobed.describe()
