"""A simulated retail day through the real broker, worker and sink lands exactly."""

from __future__ import annotations

import pytest

from sim.config import SimConfig
from sim.publish import generate, run
from streams.codec import encode
from tests.conftest import Pipeline
from tests.integration.checks import (
    assert_duckdb_equals_report,
    assert_stock_table_equals_report,
    just_ended,
    wait_until_projected,
)
from tests.integration.kafka_io import producer

pytestmark = pytest.mark.integration

DAY = just_ended(SimConfig(events=10_000, seed=7, stores=20, warehouses=2, skus=300, customers=2_000))


def test_a_simulated_day_lands_exactly_in_duckdb_and_the_stock_table_and_a_replay_changes_nothing(
    pipeline: Pipeline,
) -> None:
    worker = pipeline.worker().start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()

    report = run(DAY)
    assert report.events == 10_000
    wait_until_projected(pipeline.analytics_path, report)
    assert_duckdb_equals_report(pipeline.analytics_path, report)
    assert_stock_table_equals_report(worker, report)

    # Part of the day again (new offsets, same event ids): nothing may change.
    resend_first(2_000, pipeline)
    wait_for_sink_to_read(sink, pipeline)
    assert_duckdb_equals_report(pipeline.analytics_path, report)
    assert_stock_table_equals_report(worker, report)


def resend_first(count: int, pipeline: Pipeline) -> None:
    p = producer(pipeline.env["KAFKA_BOOTSTRAP"])
    for spec, key, event in generate(DAY)[:count]:
        p.send(spec.full_name(pipeline.prefix), key=key, value=encode(event))
    p.flush()


def wait_for_sink_to_read(sink, pipeline: Pipeline) -> None:  # type: ignore[no-untyped-def]
    """Until the sink has read to the end of every topic (its lag metric is zero everywhere)."""
    import re
    import urllib.request

    from tests.integration.kafka_io import wait_for

    def lag() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{pipeline.env['OMNI_SINK_PORT']}/metrics", timeout=5) as r:
            text = r.read().decode()
        pattern = r'^omnistream_sink_lag_records\{[^}]*topic="[^"]*(?:pos|orders|ledger)[^"]*"[^}]*\} (\S+)$'
        values = re.findall(pattern, text, re.M)
        return sum(float(v) for v in values) if values else -1

    wait_for(lag, lambda value: value == 0, 180, "the sink to catch up")
