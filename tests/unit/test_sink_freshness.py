"""The sink's freshness: lag runs from a record's append time on its topic, lateness from its event time, apart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from aiokafka import ConsumerRecord
from prometheus_client import Histogram

from analytics import sink_metrics as m
from analytics.batch import Batch
from analytics.sink import Sink
from settings import Settings
from streams.codec import encode
from streams.pricing import PriceChanged
from streams.topics import PRICING_CHANGES

MONTH_S = 30 * 86400


@pytest.fixture
def sink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    monkeypatch.setenv("OMNI_DUCKDB_PATH", str(tmp_path / "omnistream.duckdb"))
    made = Sink(Settings.from_env())
    yield made
    made.duckdb.close()
    made.projection.close()


def price_record(offset: int, appended_ms: int, occurred_at: datetime) -> ConsumerRecord:
    event = PriceChanged(event_id=f"price-{offset}", occurred_at=occurred_at, source_node="hq", sku="SKU-1",
                         price_cents=100 + offset, effective_from=occurred_at)
    value = encode(event)
    return ConsumerRecord(PRICING_CHANGES.name, 0, offset, appended_ms, 0, b"SKU-1", value, None, 5, len(value), [])


def counts(histogram: Histogram) -> dict[str, float]:
    """Cumulative bucket counts by upper bound, and `count`."""
    found = {}
    for sample in next(iter(histogram.collect())).samples:
        if sample.name.endswith("_bucket"):
            found[sample.labels["le"]] = sample.value
        elif sample.name.endswith("_count"):
            found["count"] = sample.value
    return found


def grew(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after[key] - before[key]


async def commit_and_publish(sink: Sink, batch: Batch) -> None:
    await sink.commit(batch)
    await sink.publish()
    await sink.duckdb.settled()


def test_a_month_old_day_appended_half_a_second_before_publish_has_sub_second_lag_and_a_month_of_lateness(
    sink: Sink,
) -> None:
    appended = time.time() - 0.5
    occurred_at = datetime.fromtimestamp(appended, UTC) - timedelta(days=30)
    batch = Batch()
    sink.add(batch, PRICING_CHANGES.full_name(sink.prefix),
             [price_record(n, round(appended * 1000), occurred_at) for n in range(20)])
    lag_before, lateness_before = counts(m.QUERYABLE_LAG), counts(m.EVENT_LATENESS)

    asyncio.run(commit_and_publish(sink, batch))

    health = sink.health()
    assert health["last_snapshot_lag"]["records"] == 20
    assert 400 <= health["last_snapshot_lag"]["lag_max_ms"] < 5_000, health["last_snapshot_lag"]
    assert health["last_snapshot_lateness"]["lateness_p50_ms"] == pytest.approx(MONTH_S * 1000, abs=1)
    with duckdb.connect(str(sink.settings.analytics_path), read_only=True) as con:
        [(lag_p99, lateness_p50)] = con.execute("select lag_p99_ms, lateness_p50_ms from sink_status").fetchall()
    assert lag_p99 < 5_000 and lateness_p50 == pytest.approx(MONTH_S * 1000, abs=1)
    lag_after, lateness_after = counts(m.QUERYABLE_LAG), counts(m.EVENT_LATENESS)
    assert grew(lag_before, lag_after, "count") == grew(lag_before, lag_after, "5.0") == 20
    assert grew(lateness_before, lateness_after, "count") == 20
    assert grew(lateness_before, lateness_after, str(float(7 * 86400))) == 0, "a month late, not days"


def test_an_event_stamped_in_the_future_is_zero_late(sink: Sink) -> None:
    appended_ms = round(time.time() * 1000)
    batch = Batch()
    sink.add(batch, PRICING_CHANGES.full_name(sink.prefix),
             [price_record(0, appended_ms, datetime.now(UTC) + timedelta(hours=2))])
    assert batch.lateness_s == [0.0] and batch.append_ms == [appended_ms]
