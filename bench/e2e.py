"""Publish the workload into a running pipeline and time it until the worker and DuckDB have it all."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field

import duckdb
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from tqdm import tqdm

from bench import scrape
from bench.cpu import CpuMeter
from bench.workload import Expected, WireRecord
from ops.processes import Service
from settings import Settings
from streams.topics import INGEST_TOPICS, INVENTORY_LEDGER

POLL_S = 0.5
STALL_TIMEOUT_S = 120.0  # give up when neither counter moves for this long
APPLIED = "omnistream_stock_movements_total"
ROUTED = "omnistream_events_processed_total"
ROWS = "omnistream_sink_rows_inserted_total"
LAG = "omnistream_sink_projection_lag_seconds"


@dataclass
class Progress:
    """The counters the watch reads, and when each target was first met (seconds after t0)."""

    ledger: int = 0
    routed: float = 0
    applied: float = 0
    stock_rows: float = 0
    sales_rows: float = 0
    return_rows: float = 0
    worker_s: float | None = None
    sink_s: float | None = None
    lag: list[tuple[float, float]] = field(default_factory=list)


class Watch(threading.Thread):
    """Follows the run until the worker applied every movement and DuckDB holds every row.

    The worker is timed by the ledger's end offsets (one entry per applied movement) and then
    confirmed once on its /metrics: a scrape walks every key of both tables on the worker's
    event loop (views/health.py), about 0.2 s at 40k movements, so polling it would slow the
    worker being measured. The sink's /metrics is cheap (its own thread) and is polled.
    """

    def __init__(self, stack_urls: tuple[str, str], ledger: str, settings: Settings, expected: Expected,
                 services: list[Service], t0: float, progress: bool, meter: CpuMeter | None = None) -> None:
        super().__init__(name="bench-watch", daemon=True)
        self.worker_url, self.sink_url = stack_urls
        self.ledger, self.settings, self.expected = ledger, settings, expected
        self.services, self.t0, self.meter = services, t0, meter
        self.state = Progress()
        self.error: str | None = None
        self.bar = tqdm(total=expected.movements, desc="ledger entries", unit="mv", file=sys.stderr,
                        disable=not progress, mininterval=0.5)

    def run(self) -> None:
        offsets = KafkaConsumer(bootstrap_servers=self.settings.bootstrap.split(","), enable_auto_commit=False,
                                **self.settings.security.kafka_python_kwargs())
        partitions = [TopicPartition(self.ledger, p) for p in range(INVENTORY_LEDGER.partitions)]
        last_change, last_seen = time.monotonic(), (-1.0, -1.0)
        try:
            while self.state.sink_s is None or self.state.worker_s is None:
                time.sleep(POLL_S)
                self._poll(sum(offsets.end_offsets(partitions).values()))
                seen = (self.state.ledger, self.state.stock_rows)
                if seen != last_seen:
                    last_change, last_seen = time.monotonic(), seen
                elif time.monotonic() - last_change > STALL_TIMEOUT_S:
                    self.error = f"no progress for {STALL_TIMEOUT_S:.0f}s at {self.state}"
                    return
                dead = [s.name for s in self.services if not s.alive]
                if dead:
                    self.error = f"{', '.join(dead)} exited during the run"
                    return
        finally:
            offsets.close()
            self.bar.close()

    def _poll(self, ledger: int) -> None:
        now = time.monotonic() - self.t0
        s, e = self.state, self.expected
        s.ledger = ledger
        self.bar.update(min(ledger, e.movements) - self.bar.n)
        if s.worker_s is None and ledger >= e.movements and self._worker_confirms():
            s.worker_s = now
            self._mark("worker done")
        sink = scrape.fetch(f"{self.sink_url}/metrics")
        if sink is not None:
            s.stock_rows = scrape.total(sink, ROWS, table="fct_stock_movements")
            s.sales_rows = scrape.total(sink, ROWS, table="fct_sales_lines")
            s.return_rows = scrape.total(sink, ROWS, table="fct_return_lines")
            s.lag = scrape.buckets(sink, LAG)
            self.bar.set_postfix(duckdb_rows=int(s.stock_rows), refresh=False)
        in_duckdb = s.stock_rows >= e.movements and s.sales_rows >= e.sales_lines and s.return_rows >= e.return_lines
        if s.sink_s is None and in_duckdb:
            s.sink_s = now
            self._mark("sink done")

    def _worker_confirms(self) -> bool:
        """The worker's own counters agree: every movement applied, every source event routed."""
        worker = scrape.fetch(f"{self.worker_url}/metrics", timeout_s=10)
        if worker is None:
            return False
        self.state.routed = sum(scrape.total(worker, ROUTED, topic=spec.name) for spec in INGEST_TOPICS)
        self.state.applied = scrape.total(worker, APPLIED, verdict="applied")
        return self.state.applied >= self.expected.movements

    def _mark(self, label: str) -> None:
        if self.meter is not None:
            self.meter.mark(label, time.monotonic())


def publish(settings: Settings, records: list[WireRecord], progress: bool) -> None:
    """Send every record as fast as the producer takes them: acks=all, idempotent, linger 5 ms."""
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap.split(","), client_id=f"{settings.app_id}-bench",
        acks="all", enable_idempotence=True, linger_ms=5, **settings.security.kafka_python_kwargs(),
    )
    failures: list[Exception] = []
    try:
        for spec, key, value in tqdm(records, desc="publish", unit="ev", file=sys.stderr, disable=not progress,
                                     mininterval=0.5):
            producer.send(spec.full_name(settings.topic_prefix), key=key, value=value).add_errback(failures.append)
        producer.flush()
    finally:
        producer.close()
    if failures:
        raise RuntimeError(f"{len(failures)} records were not acknowledged, the first: {failures[0]!r}")


def snapshot_counts(path: str) -> tuple[int, int, int] | None:
    """(stock movements, sales lines, return lines) in the analysts' snapshot, read-only."""
    try:
        with duckdb.connect(path, read_only=True) as con:
            row = con.execute(
                "select (select count(*) from fct_stock_movements), (select count(*) from fct_sales_lines), "
                "(select count(*) from fct_return_lines)"
            ).fetchone()
    except (duckdb.Error, OSError):
        return None
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


def wait_for_snapshot(path: str, expected: Expected, timeout_s: float) -> tuple[int, int, int] | None:
    """The snapshot's counts once they equal `expected`, or the last ones seen after `timeout_s`."""
    want = (expected.movements, expected.sales_lines, expected.return_lines)
    deadline = time.monotonic() + timeout_s
    got = snapshot_counts(path)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.5)
        got = snapshot_counts(path)
    return got
