"""`/health` for load balancers and `/metrics` for Prometheus, on the worker's web port."""

from __future__ import annotations

import time
from typing import Any, cast

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ops.metrics import CONSUMER_LAG, REGISTRY, TABLE_KEYS
from runtime import lags
from runtime.app import app, settings
from runtime.cluster import watch
from runtime.source import owned_partitions
from streams.topics import ALL_TOPICS
from tables.applied import applied_table
from tables.stock import stock_table

SOURCE_TOPICS = {spec.full_name(settings.topic_prefix) for spec in ALL_TOPICS}
KEY_COUNT_EVERY_S = 60.0
_keys_counted_at = -KEY_COUNT_EVERY_S


def _refresh_gauges() -> None:
    consumer = app.consumer
    CONSUMER_LAG.clear()
    for tp in consumer.assignment():
        if tp.topic not in SOURCE_TOPICS:  # changelogs: this worker writes them, lag means nothing
            continue
        highwater = consumer.highwater(tp)
        read = cast(Any, consumer)._read_offset.get(tp)  # faust's ConsumerT does not declare it
        position = 0 if read is None else read + 1
        if highwater is not None:
            CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - position))
    for (topic, partition), value in lags.current().items():
        CONSUMER_LAG.labels(topic, str(partition)).set(value)
    global _keys_counted_at
    if time.monotonic() - _keys_counted_at >= KEY_COUNT_EVERY_S:  # counting walks the store: not per scrape
        _keys_counted_at = time.monotonic()
        for table in (stock_table, applied_table):
            TABLE_KEYS.labels(table.name).set(sum(1 for _ in table.keys()))


@app.page("/metrics")
class Metrics(View):
    async def get(self, request: Request) -> Response:
        _refresh_gauges()
        return self.bytes(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])


@app.page("/health")
class Health(View):
    async def get(self, request: Request) -> Response:
        partitions = {(tp.topic, tp.partition) for tp in app.consumer.assignment()} | owned_partitions()
        assigned = sorted(f"{topic}[{partition}]" for topic, partition in partitions)
        recovering = not cast(Any, app.tables).recovery.completed.is_set()
        body: dict[str, Any] = {
            "status": "recovering" if recovering else "ok",
            "app_id": app.conf.id,
            "assigned": assigned,
            "rebalancing": bool(app.rebalancing),
            # Not in the status code: tables answer reads while Kafka is away (docs/operations.md).
            "kafka": watch.health(),
        }
        return self.json(body, status=503 if recovering else 200)
