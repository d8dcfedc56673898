"""The hold benchmark's pure parts: its workload, its percentiles and the keys of its JSON line."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bench.hold_result import RESULT_KEYS, SCALE_KEYS, Latency, Scale, Throughput, result_line
from bench.holds import Network, percentile, place_holds, receipts
from bench.recovery import changelog_records, node_names, partition_of
from domain.stock import SkuStock
from streams.codec import decode
from streams.topics import INVENTORY_ADJUSTMENTS, INVENTORY_HOLD_REQUESTS

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ONE = Throughput(workers=1, holds=3000, seconds=6.0, answers={"granted": 3000}, start_s=9.0, worker_cpu_s=4.5,
                 changelog_bytes=3_000_000)
TWO = Throughput(workers=2, holds=3000, seconds=5.0, answers={"granted": 3000}, start_s=12.0)
LATENCY = Latency(offered_per_s=1000, holds=5000, p50_s=0.0421, p99_s=0.25, max_s=0.3, answered_s=5.5,
                  light_per_s=100, light_p50_s=0.012, light_p99_s=0.03)


def test_percentiles_interpolate_between_closest_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 100) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0) == 1.0


def test_a_percentile_of_one_value_is_that_value_and_of_none_is_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_the_json_line_starts_with_the_promised_keys_and_has_no_scale_figures_when_quick() -> None:
    line = result_line(ONE, TWO, LATENCY, 20_000.0, None, True, "4.1.1", 2, "abc1234")
    assert tuple(line)[: len(RESULT_KEYS)] == RESULT_KEYS
    assert not set(SCALE_KEYS) & set(line)
    assert line["holds_per_s"] == 500.0 and line["holds_per_s_two_workers"] == 600.0
    assert (line["p50_ms"], line["p99_ms"]) == (42.1, 250.0)
    assert line["worker_cpu_ms_per_hold"] == 1.5 and line["stock_changelog_bytes_per_hold"] == 1000
    json.dumps(line)  # one JSON object, nothing that does not serialise


def test_the_full_run_adds_memory_and_recovery_time_of_the_scale_phase() -> None:
    scale = Scale(skus=20_000, nodes=102, changelog_bytes=115_000_000, recovery_s=41.26, rss_mib=512.34, checked=4)
    line = result_line(ONE, TWO, LATENCY, 20_000.0, scale, False, "4.1.1", 2, "abc1234")
    assert set(RESULT_KEYS + SCALE_KEYS) <= set(line)
    assert (line["rss_mib"], line["recovery_s"], line["scale_positions"]) == (512.3, 41.3, 2_040_000)


def test_holds_are_valid_commands_with_distinct_ids_spread_over_skus_and_nodes() -> None:
    network = Network(skus=5, nodes=3)
    commands = place_holds(network, "r1", 0, 30, NOW)
    holds = [decode(INVENTORY_HOLD_REQUESTS, c.value, 1 << 20) for c in commands]
    assert len({h.hold_id for h in holds}) == len({c.command_id for c in commands}) == 30
    every_position = {(network.sku(s), network.node(n)) for s in range(5) for n in range(3)}
    assert {(h.sku, h.node) for h in holds[:15]} == every_position
    assert all(h.quantity == 1 and h.expires_at > NOW for h in holds)
    assert [c.key for c in commands] == [h.order_id.encode() for h in holds]


def test_opening_stock_is_one_receipt_per_node_keyed_by_node_covering_every_sku() -> None:
    records = receipts(Network(skus=4, nodes=2, units=9), "r1", NOW)
    events = [decode(INVENTORY_ADJUSTMENTS, value, 1 << 20) for _, value in records]
    assert [key for key, _ in records] == [b"st-000", b"st-001"]
    assert all(len(e.lines) == 4 and {line.quantity for line in e.lines} == {9} for e in events)


def test_the_scale_changelog_has_one_stock_value_per_sku_keyed_and_partitioned_as_the_worker_writes_it() -> None:
    nodes = node_names()
    records = list(changelog_records(3, nodes))
    assert len(nodes) == 102
    for partition, key, value in records:
        stock = SkuStock.model_validate_json(value)
        assert key == f'"{stock.sku}"'.encode()  # Faust's JSON key serializer, quotes included
        assert len(stock.positions) == 102
        assert partition == partition_of(stock.sku)
    assert partition_of("SKU-00777") == 2  # what tests/integration/test_hold_contention.py computes
