"""Projection lag, end to end: events sent at a fixed rate, then watched for in the analysts' snapshot."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from aiokafka import AIOKafkaProducer
from tqdm import tqdm

from analytics.rows import rows_for
from settings import Settings
from streams.base import Event
from streams.codec import encode
from streams.topics import POS_TRANSACTIONS, WEB_ORDERS, TopicSpec

POLL_S = 0.1
MAX_SETTLE_S = 600.0
MAX_BEHIND_S = 0.05  # as sim.pacing.TokenBucket's burst: 1/20 s of sends
# Rows are projected in commit order, so a snapshot holds a prefix of the batches: a reader only
# needs rows projected after the newest it saw. The margin covers clock steps and ties.
WATERMARK_MARGIN_MS = 5_000
READ_TABLES = {"fct_sales_lines", "fct_return_lines"}  # where the reader looks for an event's rows
SEEN_SQL = (
    "select event_id, min(epoch_ms(occurred_at)), max(epoch_ms(projected_at)) from ("
    " select event_id, occurred_at, projected_at from fct_sales_lines"
    " union all select event_id, occurred_at, projected_at from fct_return_lines"
    ") where projected_at >= to_timestamp(? / 1000.0) and starts_with(event_id, ?) group by event_id"
)


@dataclass(eq=False)  # a Thread must stay hashable
class Publisher(threading.Thread):
    """Sends `count` events at `rate`/s, each a simulated one with a fresh id and occurred_at = now.

    aiokafka, not kafka-python: without the `crc32c` C package kafka-python computes every
    batch's CRC-32C in pure Python (~100 us per record here), and the publisher must not fall
    behind the rate it is asked for on a busy machine.
    """

    settings: Settings
    events: list[Event]
    count: int
    rate: float
    id_prefix: str
    progress: bool
    expected: set[str] = field(default_factory=set)  # ids of the events that become rows
    sent: int = 0
    seconds: float = 0.0
    behind_s: float = 0.0  # time given up to a starved publisher rather than caught up in a burst
    failures: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(name="bench-lag-publisher", daemon=True)
        self.makes_rows = [bool(set(rows_for(e, e.occurred_at)) & READ_TABLES) for e in self.events]

    def run(self) -> None:
        asyncio.run(self._publish())

    async def _publish(self) -> None:
        out = AIOKafkaProducer(bootstrap_servers=self.settings.bootstrap, acks="all", enable_idempotence=True,
                               linger_ms=5, **self.settings.security.aiokafka_kwargs())
        await out.start()
        bar = tqdm(total=self.count, desc="lag publish", unit="ev", file=sys.stderr, disable=not self.progress,
                   mininterval=1)
        started = time.monotonic()
        try:
            for i in range(self.count):
                await self._pace(started, i)
                sent = await self.send(out, i)
                sent.add_done_callback(self._check)
                bar.update()
            await out.flush()
        finally:
            self.seconds = time.monotonic() - started
            bar.close()
            await out.stop()

    async def _pace(self, started: float, i: int) -> None:
        """Wait until event i is due; more than MAX_BEHIND_S late, move the schedule instead of bursting."""
        late = time.monotonic() - (started + self.behind_s + i / self.rate)
        if late < 0:
            await asyncio.sleep(-late)
        elif late > MAX_BEHIND_S:
            self.behind_s += late - MAX_BEHIND_S

    async def send(self, out: AIOKafkaProducer, i: int) -> asyncio.Future[object]:
        original = self.events[i % len(self.events)]
        event = original.model_copy(update={"event_id": f"{self.id_prefix}{i:07d}", "occurred_at": datetime.now(UTC)})
        if self.makes_rows[i % len(self.events)]:
            self.expected.add(event.event_id)
        spec = spec_for_event(event)
        key = (event.source_node if spec is POS_TRANSACTIONS else event.order_id).encode()  # type: ignore[attr-defined]
        self.sent += 1
        return await out.send(spec.full_name(self.settings.topic_prefix), value=encode(event), key=key)

    def _check(self, sent: asyncio.Future[object]) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            self.failures.append(sent.exception())  # type: ignore[arg-type]


def spec_for_event(event: Event) -> TopicSpec:
    """Where the simulator sent this kind of event; keyed as it keys them (store, or order)."""
    return POS_TRANSACTIONS if type(event) in POS_TRANSACTIONS.events else WEB_ORDERS


@dataclass
class SnapshotReader:
    """Re-opens the snapshot read-only each poll; remembers when each event id was first visible."""

    path: Path
    id_prefix: str
    lags_ms: dict[str, float] = field(default_factory=dict)
    watermark_ms: float = 0.0
    polls: int = 0
    slowest_poll_s: float = 0.0

    def poll(self) -> int:
        """New event ids seen; lag = time this poll opened the file - the event's occurred_at."""
        if not self.path.exists():
            return 0
        opened = time.time()
        try:
            with duckdb.connect(str(self.path), read_only=True) as con:
                rows = con.execute(SEEN_SQL, [self.watermark_ms - WATERMARK_MARGIN_MS, self.id_prefix]).fetchall()
        except (duckdb.Error, OSError):
            return 0  # replaced while opening: the next poll sees the new file
        self.polls += 1
        self.slowest_poll_s = max(self.slowest_poll_s, time.time() - opened)
        new = 0
        for event_id, occurred_ms, projected_ms in rows:
            self.watermark_ms = max(self.watermark_ms, projected_ms)
            if event_id not in self.lags_ms:
                self.lags_ms[event_id] = opened * 1000 - occurred_ms
                new += 1
        return new


def watch(reader: SnapshotReader, publisher: Publisher, stall_s: float) -> None:
    """Poll every POLL_S while the publisher runs, then until every expected id is seen.

    A sink that fell behind is waited for as long as the snapshot keeps showing new ids: giving
    up after a fixed time would drop exactly the slowest events from the percentiles. It stops
    after `stall_s` without a new id, or MAX_SETTLE_S after publishing ended.
    """
    publisher.start()
    last_new = time.monotonic()
    ended: float | None = None
    while True:
        started = time.monotonic()
        if reader.poll():
            last_new = started
        if not publisher.is_alive():
            ended = ended or started
            if publisher.expected <= reader.lags_ms.keys():
                return
            if started - last_new > stall_s or started - ended > MAX_SETTLE_S:
                return
        time.sleep(max(0.0, POLL_S - (time.monotonic() - started)))
