"""Worker and sink report the cluster they run on: /health's `kafka` object and the omnistream_kafka_* gauges."""

from __future__ import annotations

from typing import Any

import pytest

from bench import scrape
from ops.processes import get_json
from streams.topics import ALL_TOPICS
from tests.conftest import Pipeline
from tests.integration.kafka_io import wait_for

pytestmark = pytest.mark.integration


def kafka_of(url: str) -> dict[str, Any] | None:
    status, body = get_json(url)
    return body.get("kafka") if status == 200 and isinstance(body, dict) else None


def test_worker_and_sink_on_the_single_dev_broker_report_it_ok_with_one_broker_and_the_apps_partitions(
    pipeline: Pipeline,
) -> None:
    worker = pipeline.worker(OMNI_CLUSTER_WATCH_S="1").start()
    sink = pipeline.sink().start()
    worker.wait_healthy()
    sink.wait_healthy()

    for service in (worker, sink):
        # The watch reads the topic list when it starts; the sink's topics are created by then.
        kafka = wait_for(lambda s=service: kafka_of(s.health_url),  # type: ignore[misc]
                         lambda k: k is not None and k["state"] != "checking", 30, f"{service.name}'s first answer")
        assert kafka is not None
        assert (kafka["state"], kafka["reachable"], kafka["brokers"]) == ("ok", True, 1), kafka
        assert (kafka["under_replicated"], kafka["under_min_isr"], kafka["offline"]) == (0, 0, 0), kafka
        assert kafka["partitions"] >= sum(spec.partitions for spec in ALL_TOPICS), "the registry's topics are counted"
        assert kafka["controller"] is not None and kafka["missing_brokers"] == [] and kafka["unreachable_s"] == 0
        samples = scrape.fetch(service.health_url.replace("/health", "/metrics"))
        assert samples is not None
        assert scrape.total(samples, "omnistream_kafka_reachable") == 1
        assert scrape.total(samples, "omnistream_kafka_brokers") == 1
        assert scrape.total(samples, "omnistream_kafka_under_replicated_partitions") == 0
    assert "Kafka cluster: 1 broker, all" in worker.log_path.read_text(), "the worker said the cluster once"
