"""SIGKILL the worker and the sink mid-stream, restart them: nothing lost, nothing counted twice."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from analytics.sink import FACT_SOURCES
from domain.stock import SkuStock
from settings import Settings
from sim.config import SimConfig
from sim.publish import generate, run
from sim.report import expected_movements
from streams.codec import encode
from streams.topics import INVENTORY_LEDGER
from tables.stock_once import apply
from tests.conftest import Pipeline
from tests.integration.checks import (
    DayInBackground,
    applied_movements,
    assert_duckdb_equals_report,
    assert_facts_equal_topics,
    assert_stock_table_equals_report,
    just_ended,
    wait_until_projected,
    wait_until_sink_caught_up,
)
from tests.integration.kafka_io import producer, scalar, wait_for

pytestmark = pytest.mark.integration

DAY = just_ended(SimConfig(events=8_000, seed=11, stores=10, warehouses=2, skus=120, customers=1_000, rate=800))
SINK_DAY = just_ended(SimConfig(events=10_000, seed=13, stores=10, warehouses=2, skus=150, customers=1_500))


def test_sigkill_of_worker_and_sink_mid_stream_loses_and_repeats_nothing(pipeline: Pipeline) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()
    day = DayInBackground(DAY)

    # First crash: both processes at once, while events are still arriving; same disks.
    wait_for(lambda: applied_movements(worker), lambda n: n > 1_500, 120, "the worker to be mid-stream")
    worker.kill9()
    sink.kill9()
    worker.start()
    sink.start()
    worker.wait_healthy(120)
    sink.wait_healthy()

    # Second crash: the worker loses its disk too, and must rebuild its tables from the changelog.
    wait_for(lambda: applied_movements(worker), lambda n: n > 1_000, 120, "the restarted worker to be busy")
    worker.kill9()
    fresh = pipeline.worker("worker-empty-disk", OMNI_WEB_PORT=worker.env["OMNI_WEB_PORT"]).start()
    fresh.wait_healthy(120)

    report = day.report(timeout_s=180)
    wait_until_projected(pipeline.analytics_path, report, stall_s=180)
    assert_duckdb_equals_report(pipeline.analytics_path, report)
    assert_stock_table_equals_report(fresh, report)


def projected(snapshot: Path) -> int:
    return int(scalar(snapshot, "select (select count(*) from fct_sales_lines) + "
                                "(select count(*) from fct_stock_movements)") or 0)


def day_and_ledger(config: SimConfig) -> list[tuple[str, bytes, bytes]]:
    """The day's events interleaved with the ledger entries the stock authority makes of them
    (domain code standing in for the worker, which is not what this test is about)."""
    emissions = generate(config)
    events = [(spec.name, key, encode(event)) for spec, key, event in emissions]
    ledger: list[tuple[str, bytes, bytes]] = []
    stocks: dict[str, SkuStock] = {}
    for offset, movement in enumerate(expected_movements([event for _, _, event in emissions])):
        out = apply(stocks.get(movement.sku, SkuStock(sku=movement.sku)), movement, offset, None, offset)
        stocks[movement.sku] = out.stock
        ledger += [(INVENTORY_LEDGER.name, entry.sku.encode(), encode(entry)) for entry in out.ledger]
    every = max(1, len(ledger) // max(1, len(events)))
    mixed: list[tuple[str, bytes, bytes]] = []
    for i, event in enumerate(events):
        mixed += [event, *ledger[i * every:(i + 1) * every]]
    return mixed + ledger[len(events) * every:]


def publish(pipeline: Pipeline, records: list[tuple[str, bytes, bytes]], rate: float) -> None:
    p = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    started = time.monotonic()
    for n, (topic, key, value) in enumerate(records, 1):
        p.send(pipeline.prefix + topic, key=key, value=value)
        ahead = n / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)
    p.flush()


def test_sink_killed_twice_mid_stream_ends_with_exactly_the_rows_the_topics_imply(pipeline: Pipeline) -> None:
    records = day_and_ledger(SINK_DAY)
    sink = pipeline.sink().start()
    sink.wait_healthy()
    publisher = threading.Thread(target=publish, args=(pipeline, records, 1_500), daemon=True)
    publisher.start()

    snapshot = pipeline.analytics_path
    for at_least in (len(records) // 5, len(records) // 2):  # SIGKILL twice while records still arrive
        wait_for(lambda: projected(snapshot), lambda n, a=at_least: n > a, 120, f"{at_least} rows projected")
        assert publisher.is_alive(), "the crash must come mid-stream"
        sink.kill9()
        sink.start()
        sink.wait_healthy()

    publisher.join(timeout=180)
    assert not publisher.is_alive(), "the publisher did not finish"
    settings = Settings.from_env()
    ends = wait_until_sink_caught_up(snapshot, settings)
    assert sum(ends.values()) == sum(1 for topic, _, _ in records if topic in {s.name for s in FACT_SOURCES})
    assert_facts_equal_topics(snapshot, settings, ends)
    assert_duckdb_equals_report(snapshot, run(SINK_DAY, publish=False))
    starts = sink.log_path.read_text().count("sink reading")
    assert starts == 3, f"expected the sink to start 3 times, saw {starts}"
