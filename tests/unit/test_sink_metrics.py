"""The sink's bulk histogram observation counts exactly as one `observe` per value."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from analytics.sink_metrics import observe_all

BUCKETS = (0.1, 0.5, 1, 5)


def samples(histogram: Histogram) -> dict[tuple[str, str], float]:
    return {(s.name, s.labels.get("le", "")): s.value for metric in histogram.collect() for s in metric.samples
            if not s.name.endswith("_created")}


def test_observing_all_values_at_once_gives_the_buckets_count_and_sum_of_observing_them_one_by_one() -> None:
    values = [0.0, 0.1, 0.10001, 0.5, 0.7, 1.0, 4.9, 5.0, 5.1, 120.0, 0.3, 0.3]
    one_by_one = Histogram("one", "one", buckets=BUCKETS, registry=CollectorRegistry())
    at_once = Histogram("one", "one", buckets=BUCKETS, registry=CollectorRegistry())
    for value in values:
        one_by_one.observe(value)
    observe_all(at_once, values)
    observe_all(at_once, [])
    assert samples(at_once) == samples(one_by_one)
