"""Prometheus metrics of the dashboard: what it served, how fast, and which sources were down."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ops.cluster_watch import kafka_gauges

REGISTRY = CollectorRegistry()
KAFKA = kafka_gauges(REGISTRY)  # omnistream_kafka_*: the cluster as the dashboard sees it (ops/cluster_watch.py)

REQUESTS = Counter(
    "omnistream_dashboard_requests_total", "HTTP requests answered, by route and status", ["route", "status"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "omnistream_dashboard_request_seconds", "Time to answer a request, by route", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5), registry=REGISTRY,
)
SOURCE_DOWN = Counter(
    "omnistream_dashboard_source_down_total",
    "Panels answered without their source (worker, sink or snapshot down or missing), by route", ["route"],
    registry=REGISTRY,
)
SNAPSHOT_AGE = Gauge(
    "omnistream_dashboard_snapshot_age_seconds",
    "Age of the analyst snapshot the dashboard last read (its publish time to now)", registry=REGISTRY,
)
