"""The DuckDB sink: micro-batches from Kafka into fact tables, offsets in the same transaction.

Run with `python -m analytics.sink`. It reads partitions by assignment (no consumer group):
DuckDB allows one writer, so one sink owns the file, and its position lives in the file
itself (`sink_offsets`). A restart seeks to the stored offsets, so no row is lost or counted
twice; primary keys on event ids make a replayed event a no-op.

It reads with aiokafka, whose C record parser reads ~3x faster than kafka-python's (see
docs/benchmarks.md), on one asyncio loop. Each batch's transaction, and each snapshot, runs on
one DuckDB thread (`WriterThread`) while the loop decodes the next batch; the next job starts
only when the previous one has finished, so commits keep their order, each covers its batch's
rows and offsets exactly, and a snapshot holds whole batches.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from analytics import sink_metrics as m
from analytics.batch import Batch
from analytics.freshness import Freshness, Unpublished, lags_s, next_interval
from analytics.store import Projection
from analytics.writer import WriterThread
from ops import http, logs
from ops.cluster_watch import ClusterWatch
from settings import Settings
from streams import admin
from streams.topics import (
    AUDIT_REQUESTS,
    CUSTOMERS_ERASURES,
    CUSTOMERS_MERGES,
    CUSTOMERS_PURCHASES,
    DEAD_LETTER_NOTICES,
    FRAUD_ALERTS,
    FULFILMENT_DECISIONS,
    FULFILMENT_NETWORK,
    FULFILMENT_STORE_RESPONSES,
    INVENTORY_AVAILABILITY,
    INVENTORY_HOLD_ANSWERS,
    INVENTORY_LEDGER,
    INVENTORY_TRANSFER_SUGGESTIONS,
    LOYALTY_LEDGER,
    LOYALTY_TIERS,
    ORDERS_STATUS,
    POS_TRANSACTIONS,
    PRICING_BASKETS,
    PRICING_BOOK,
    PRICING_CHANGES,
    PRICING_USES,
    PRICING_VARIANCES,
    WEB_ORDERS,
    TopicSpec,
    spec_for,
)

log = logging.getLogger("omnistream.sink")
FETCH_MIN_BYTES = 1024 * 1024
LAG_CHECK_TIMEOUT_S = 5.0

FACT_SOURCES: tuple[TopicSpec, ...] = (
    POS_TRANSACTIONS, WEB_ORDERS, INVENTORY_LEDGER, ORDERS_STATUS, LOYALTY_LEDGER, LOYALTY_TIERS, CUSTOMERS_PURCHASES,
    CUSTOMERS_MERGES, CUSTOMERS_ERASURES, INVENTORY_HOLD_ANSWERS, INVENTORY_AVAILABILITY, PRICING_CHANGES, FRAUD_ALERTS,
    FULFILMENT_NETWORK, FULFILMENT_DECISIONS, FULFILMENT_STORE_RESPONSES, INVENTORY_TRANSFER_SUGGESTIONS,
    PRICING_BOOK, PRICING_USES, PRICING_VARIANCES, PRICING_BASKETS, AUDIT_REQUESTS, DEAD_LETTER_NOTICES,
)


class Sink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefix = settings.topic_prefix
        self.projection = Projection(settings.duckdb_path, settings.analytics_path)
        self.consumer: AIOKafkaConsumer  # made in start(): aiokafka binds it to the running loop
        self.duckdb = WriterThread()
        self.running = True
        self.last_commit = time.time()
        self.last_snapshot = 0.0
        self.last_lag_check = 0.0
        self.unpublished = Unpublished()
        self.snapshot_s = 0.0
        self.interval_s = settings.snapshot_interval_s
        self.freshness = Freshness()
        self.cluster = ClusterWatch(settings, m.KAFKA)  # started by main(): /health's `kafka`

    async def start(self) -> list[TopicPartition]:
        """Connect and seek to the stored offsets; the partitions read. Call inside the running
        loop (aiokafka binds to it); `stop_reading()` when done."""
        self.consumer = consumer(self.settings)
        await self.consumer.start()
        return await self.assign()

    async def stop_reading(self) -> None:
        """Wait for the DuckDB job in flight (its error, if any, is raised), then disconnect."""
        try:
            await self.duckdb.settled()
        finally:
            await self.consumer.stop()
            self.duckdb.close()

    async def assign(self) -> list[TopicPartition]:
        names = [spec.full_name(self.prefix) for spec in FACT_SOURCES]
        tps = await partitions(self.consumer, names)
        self.consumer.assign(tps)
        stored = self.projection.next_offsets()
        for tp in tps:
            if (tp.topic, tp.partition) in stored:
                self.consumer.seek(tp, stored[(tp.topic, tp.partition)])
        unread = [tp for tp in tps if (tp.topic, tp.partition) not in stored]
        if unread:
            await self.consumer.seek_to_beginning(*unread)
        log.info("sink reading %d partitions of %d topics into %s", len(tps), len(names), self.settings.duckdb_path)
        return tps

    def run(self) -> None:
        asyncio.run(self._run())
        log.info("sink stopped cleanly")

    async def _run(self) -> None:
        try:
            tps = await self.start()
            since = time.monotonic()
            while self.running:
                batch = await self.gather(since)
                if batch.records:
                    await self.commit(batch)
                # The next batch's wait starts as this one is handed to DuckDB, so a snapshot copy in
                # between does not add to the time between commits (an idle round starts afresh).
                since = time.monotonic()
                await self.housekeeping(tps)
            await self.publish()
            await self.duckdb.settled()
            self.projection.close()
        finally:
            await self.stop_reading()

    async def gather(self, since: float | None = None) -> Batch:
        """Poll until the batch is full or the wait (from `since`, monotonic) is over."""
        batch = Batch()
        deadline = (since or time.monotonic()) + self.settings.sink_batch_wait_ms / 1000
        while self.running and batch.records < self.settings.sink_batch_max:
            left_ms = max(10, int((deadline - time.monotonic()) * 1000))  # poll at least once
            polled = await self.consumer.getmany(timeout_ms=left_ms,
                                                 max_records=self.settings.sink_batch_max - batch.records)
            for tp, records in polled.items():
                self.add(batch, tp.topic, records)
            if time.monotonic() >= deadline:
                break
        return batch

    def add(self, batch: Batch, topic: str, records: list[ConsumerRecord]) -> None:
        """One partition's polled records into the batch; counters and clocks once per call, not per record."""
        if not records:
            return
        name = topic.removeprefix(self.prefix)
        m.RECORDS.labels(name).inc(len(records))
        batch.records += len(records)
        batch.offsets[(topic, records[-1].partition)] = records[-1].offset + 1
        append_ms = [record.timestamp for record in records]
        batch.append_ms.extend(append_ms)
        skipped = batch.add_events(spec_for(topic, self.prefix), (record.value for record in records),
                                   datetime.now(UTC), self.settings.max_event_bytes, append_ms)
        if skipped:
            m.SKIPPED.labels(name).inc(skipped)


    async def commit(self, batch: Batch) -> None:
        """Hand the batch's transaction to the DuckDB thread once its previous job has finished."""
        frames = batch.frames()
        await self.duckdb.run(partial(self.projection.write, frames, batch.offsets), partial(self.committed, batch))

    def committed(self, batch: Batch, inserted: dict[str, int], now: float) -> None:
        """Metrics and freshness of a batch committed at `now`."""
        m.observe_all(m.COMMITTED_LAG, lags_s(now, batch.append_ms))
        m.BATCHES.inc()
        m.BATCH_SIZE.observe(batch.records)
        for table, count in inserted.items():
            m.ROWS.labels(table).inc(count)
        m.COMMIT_GAP.observe(now - self.last_commit)
        self.last_commit = now
        self.unpublished.add(batch.records, batch.append_ms, batch.lateness_s)
        added = ", ".join(f"{table}+{n}" for table, n in inserted.items()) or "no new rows"
        log.info("committed %d records: %s", batch.records, added)

    async def housekeeping(self, tps: list[TopicPartition]) -> None:
        if self.snapshot_due():
            await self.duckdb.settled()
            if self.snapshot_due():  # the job that just finished may have been a snapshot
                await self.publish()
        now = time.time()
        m.SNAPSHOT_AGE.set(now - self.last_snapshot if self.last_snapshot else 0)
        if now - self.last_lag_check >= 5:
            self.last_lag_check = now
            try:  # bounded: while the cluster is away aiokafka would hold the loop for its 40 s request timeout
                ends = await asyncio.wait_for(self.consumer.end_offsets(tps), LAG_CHECK_TIMEOUT_S)
            except (KafkaError, TimeoutError) as err:  # the lags stay as they were; /health's `kafka` says why
                log.debug("lag check skipped: %r", err)
                return
            for tp, end in ends.items():
                m.LAG_RECORDS.labels(tp.topic, str(tp.partition)).set(max(0, end - await self.consumer.position(tp)))

    def snapshot_due(self) -> bool:
        return time.time() - self.last_snapshot >= self.interval_s

    async def publish(self) -> None:
        """Publish the analyst snapshot on the DuckDB thread if anything changed, with its
        `sink_status` row, and measure how long after their append time its new records became
        queryable. It starts after the transaction in flight, so it holds every batch counted in
        `unpublished`, and the next one waits for it."""
        await self.duckdb.settled()
        # The row is written before the copy, so its publish time is an estimate: now plus the
        # previous copy's duration. The histogram and /health use the real moment.
        estimate = time.time() + self.snapshot_s
        expected = self.unpublished.freshness(lags_s(estimate, self.unpublished.append_ms))
        status = {"published_at": datetime.fromtimestamp(estimate, UTC), **expected.as_row(),
                  "snapshot_ms": round(self.snapshot_s * 1000, 1), "interval_s": self.interval_s}
        await self.duckdb.run(partial(self.projection.publish_snapshot, status), self.published)

    def published(self, took: float | None, published: float) -> None:
        """Freshness and metrics of a snapshot published at `published` (None: nothing had changed)."""
        if took is None:
            return
        lags = lags_s(published, self.unpublished.append_ms)
        m.observe_all(m.QUERYABLE_LAG, lags)
        m.observe_all(m.EVENT_LATENESS, self.unpublished.lateness_s)
        self.freshness = self.unpublished.freshness(lags)
        self.unpublished.clear()
        self.last_snapshot, self.snapshot_s = published, took
        self.interval_s = next_interval(self.settings.snapshot_interval_s, took)
        m.SNAPSHOTS.inc()
        m.SNAPSHOT_SECONDS.observe(took)
        m.SNAPSHOT_INTERVAL.set(self.interval_s)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.running else "stopping",
            "duckdb": str(self.settings.duckdb_path),
            "analytics_snapshot": str(self.settings.analytics_path),
            "seconds_since_commit": round(time.time() - self.last_commit, 1),
            "snapshot_published_at": datetime.fromtimestamp(self.last_snapshot, UTC) if self.last_snapshot else None,
            "snapshot_age_s": round(time.time() - self.last_snapshot, 1) if self.last_snapshot else None,
            "snapshot_seconds": round(self.snapshot_s, 3),
            "snapshot_interval_s": round(self.interval_s, 2),
            "snapshot_cli_readable": self.projection.cli_readable,
            "last_snapshot_lag": {"records": self.freshness.records, **self.freshness.lag.as_dict("lag")},
            "last_snapshot_lateness": self.freshness.lateness.as_dict("lateness"),
            # Not in `status`: nothing a restart could fix, and DuckDB stays readable (docs/operations.md).
            "kafka": self.cluster.health(),
        }

    def stop(self, *_: object) -> None:
        log.info("stop requested: finishing the current batch")
        self.running = False


def consumer(settings: Settings) -> AIOKafkaConsumer:
    """The sink's consumer, unassigned (the benchmark reads with the same one); call inside a running loop.

    aiokafka fetches in the background, and with the default fetch_min_bytes=1 a trickle of
    records makes it fetch again the moment a response arrives: at 2,000 events/s over the
    sink's ~40 partitions that loop cost more CPU than the projection (0.6 of a core against
    0.26). Asking the broker for 1 MB or a fifth of the batch wait, whichever comes first, keeps
    a backlog fetching at full speed and adds at most that wait to a record's trip.
    """
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap.split(","),
        client_id=f"{settings.app_id}-sink",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=settings.sink_batch_max,
        fetch_min_bytes=FETCH_MIN_BYTES,
        fetch_max_wait_ms=max(10, settings.sink_batch_wait_ms // 5),
        **settings.security.aiokafka_kwargs(),
    )


async def partitions(reader: AIOKafkaConsumer, names: list[str], timeout_s: float = 60) -> list[TopicPartition]:
    """Every partition of `names`. A started aiokafka consumer knows no topic until it refreshes its
    metadata, and topics created a moment ago take more refreshes to appear."""
    deadline = time.monotonic() + timeout_s
    while True:
        # aiokafka has no public refresh of the metadata its partitions_for_topic reads
        await reader._client.force_metadata_update()
        known = {t: reader.partitions_for_topic(t) for t in names}
        missing = sorted(t for t, parts in known.items() if not parts)
        if not missing:
            return [TopicPartition(t, p) for t in names for p in sorted(known[t] or ())]
        if time.monotonic() > deadline:
            raise SystemExit(f"sink: topics {', '.join(missing[:5])} have no partitions after {timeout_s:.0f} s; "
                             "is the broker up and were the topics created (python -m streams.admin)?")
        await asyncio.sleep(0.3)


def main() -> None:
    settings = Settings.from_env()
    logs.setup(settings.log_format, settings.log_level)
    admin.ensure_topics(settings)
    sink = Sink(settings)
    signal.signal(signal.SIGTERM, sink.stop)
    signal.signal(signal.SIGINT, sink.stop)
    server = http.serve(settings.sink_host, settings.sink_port, m.REGISTRY, sink.health)
    log.info("sink metrics on http://%s:%d/metrics", settings.sink_host, settings.sink_port)
    sink.cluster.start()
    try:
        sink.run()
    finally:
        sink.cluster.stop()
        server.shutdown()


if __name__ == "__main__":
    main()
