"""A stateful stage's source, read in batches by its own consumer, owned exactly when Faust owns
the stage's table partitions.

Measured (`python -m bench.peers`): Faust's stream delivers ~3,000 records/s to a batching
agent on this machine however little the agent does, while a plain aiokafka consumer feeds
~80,000/s. So a stateful stage reads its source with aiokafka, and Faust stays the app: it
assigns partitions, keeps and recovers the tables, serves the views, runs the worker.

How ownership follows Faust (all workers subscribe the same topics, so Faust's assignor gives
partition p of every co-partitioned topic, the stage's table changelog included, to one worker):
- on assignment, the stage takes the source partitions whose number matches the table changelog
  partitions this worker now has as *active*, and starts reading them at the stage's committed
  offsets (consumer group `<app id>-<stage>`, offsets only: no group membership);
- it reads only while no rebalance or table recovery is running, so the table holds every key
  of the partitions it applies;
- on revocation (Faust awaits this before the group moves on) it finishes the batch in hand,
  flushes the producer (changelog and outputs) and commits, so the next owner starts exactly
  where this one stopped.

Offsets are committed only after `app.producer.flush()` returned, i.e. after Kafka acknowledged
every changelog record and output the committed records caused. After a SIGKILL the next owner
re-reads from the last commit; each stage's exactly-once rules (watermark and id guards kept in
the key's value) recognise what was applied already.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from ops.crashes import fatal
from ops.metrics import CHECKPOINT_SECONDS
from runtime import lags
from runtime.app import after_assignment, before_revocation, settled
from runtime.batch import Pending, in_partition, send
from runtime.offsets import HoleDetector
from runtime.publish import publish
from settings import Settings
from streams.base import Event
from streams.topics import TopicSpec

log = logging.getLogger("omnistream.source")

BatchHandler = Callable[[TopicPartition, list[ConsumerRecord]], Awaitable[None]]
MAX_RECORDS = 2_000  # per fetch; a partition's share is one batch
IDLE_POLL_MS = 100
SOURCES: list[OwnedSource] = []


def owned_partitions() -> set[tuple[str, int]]:
    """The source partitions every stage of this worker reads now (for /health)."""
    return {(tp.topic, tp.partition) for source in SOURCES if source.consumer is not None
            for tp in source.consumer.assignment() if tp.partition in source.owned}


class OwnedSource:
    def __init__(self, app: faust.App, settings: Settings, name: str, topics: str | tuple[str, ...], table: Any,
                 handle: BatchHandler, max_records: int = MAX_RECORDS, transactional_id: str | None = None,
                 also_ready: Callable[[], bool] | None = None, state: tuple[Pending[Any, Any], ...] = ()) -> None:
        """`topics`: the source, or several co-partitioned sources joined by key (each batch is
        still one partition of one topic).

        `transactional_id`: run each fetch's batches in one Kafka transaction of `self.producer`
        (the handler sends its changelog records and outputs with it; the consumed offsets are
        committed in the same transaction). Measured against the default in bench.peers: see
        docs/benchmarks.md. Off by default.

        `also_ready`: a further condition before reading (a bench waits for all its workers).

        `state`: the stage's `Pending` views of its tables, flushed at every checkpoint."""
        self.app = app
        self.settings = settings
        self.name = name
        self.topics = (topics,) if isinstance(topics, str) else tuple(topics)
        self.table = table
        self.handle = handle
        self.max_records = max_records
        self.owned: set[int] = set()
        self.done: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self.position: dict[TopicPartition, int] = {}  # next offset to apply, per partition
        self.lag: dict[TopicPartition, int] = {}
        self.holes = HoleDetector(name, rereads=False)  # counted only: we commit what we applied
        self.consumer: AIOKafkaConsumer | None = None
        self.transactional_id = transactional_id
        self.also_ready = also_ready
        self.state = state
        self.producer: AIOKafkaProducer | None = None
        self._assignment_changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_commit = time.monotonic()
        self._committing: asyncio.Future[None] | None = None  # the checkpoint waiting for Kafka, if any
        self._deferred: list[tuple[TopicSpec, Event]] = []  # outputs sent once the state that made them is kept
        self._commit_lock = asyncio.Lock()  # one checkpoint starts at a time, after the one before
        before_revocation(self._on_revoked, app)
        after_assignment(self._on_assigned, app)
        app.task(self.run)
        SOURCES.append(self)
        lags.register(lambda: {(tp.topic, tp.partition): lag for tp, lag in self.lag.items()
                               if tp.partition in self.owned})

    # -- ownership ---------------------------------------------------------------------------

    def _ready(self) -> bool:
        return settled(self.app) and (self.also_ready is None or self.also_ready())

    async def _on_revoked(self) -> None:
        self.owned = set()
        self._assignment_changed.set()
        await self._idle.wait()  # the batch in hand is finished
        await self.commit()
        if self.consumer is not None:
            self.consumer.assign([])
        self.done.clear()
        self.holes.forget()

    async def _on_assigned(self) -> None:
        changelog = self.table.changelog_topic.get_topic_name()
        self.owned = {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == changelog}
        self._assignment_changed.set()
        log.info("%s owns %s[%s]", self.name, "+".join(self.topics), ",".join(map(str, sorted(self.owned))) or "-")

    def _apply_assignment(self, consumer: AIOKafkaConsumer) -> None:
        self._assignment_changed.clear()
        wanted = {TopicPartition(topic, p) for topic in self.topics for p in self.owned}
        if wanted != consumer.assignment():
            consumer.assign(list(wanted))  # positions come from the committed offsets
            self.position.clear()
            self.done = {tp: off for tp, off in self.done.items() if tp in wanted}
            self.holes.forget()

    # -- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        s = self.settings
        self.consumer = consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap.split(","),
            group_id=f"{s.app_id}-{self.name}",
            client_id=f"{s.app_id}-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.max_records,
            isolation_level="read_committed" if self.transactional_id else "read_uncommitted",
            **s.security.aiokafka_kwargs(),
        )
        if self.transactional_id:
            self.producer = AIOKafkaProducer(
                bootstrap_servers=s.bootstrap.split(","), transactional_id=self.transactional_id,
                enable_idempotence=True, acks="all", linger_ms=int(s.producer_linger_s * 1000),
                **s.security.aiokafka_kwargs(),
            )
            await self.producer.start()
        await consumer.start()
        try:
            while True:
                if self._assignment_changed.is_set() and self._idle.is_set():
                    self._apply_assignment(consumer)
                if not consumer.assignment() or not self._ready() or self._assignment_changed.is_set():
                    await asyncio.sleep(0.05)
                    continue
                batches = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=self.max_records)
                if batches:
                    await self._process(batches)
                await self._report_lag(consumer)
                if time.monotonic() - self._last_commit >= s.commit_interval_s or self._deferred_waiting():
                    await self.commit(wait=False)  # reads on while Kafka acknowledges
        finally:
            await self.commit()
            await consumer.stop()
            if self.producer is not None:
                await self.producer.stop()

    async def _process(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        self._idle.clear()
        try:
            if self.producer is not None:
                await self._in_transaction(self.producer, batches)
                return
            for tp, records in batches.items():
                if tp.partition not in self.owned:
                    continue  # revoked while fetching: the next owner reads it from the commit
                for record in records:
                    self.holes.saw(record.topic, record.partition, record.offset)
                with in_partition(tp.topic, tp.partition):
                    try:
                        await self.handle(tp, records)
                    except Exception as err:  # a bug, not bad input: see ops/crashes.py
                        last = records[-1]
                        fatal(self.name, last.topic, last.partition, last.offset, err)
                self.done[tp] = self.position[tp] = records[-1].offset + 1
        finally:
            self._idle.set()

    async def _in_transaction(self, producer: AIOKafkaProducer,
                              batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """The fetch's batches, their outputs and their offsets as one Kafka transaction."""
        offsets: dict[TopicPartition, int] = {}
        await producer.begin_transaction()
        try:
            for tp, records in batches.items():
                if tp.partition not in self.owned:
                    continue
                with in_partition(tp.topic, tp.partition):
                    await self.handle(tp, records)
                offsets[tp] = records[-1].offset + 1
            if offsets:
                await producer.send_offsets_to_transaction(offsets, f"{self.settings.app_id}-{self.name}")
            await producer.commit_transaction()
        except Exception as err:  # a bug or a fenced producer: see ops/crashes.py
            last = next(iter(batches.values()))[-1]
            fatal(self.name, last.topic, last.partition, last.offset, err)
        self.position.update(offsets)

    def after_checkpoint(self, spec: TopicSpec, event: Event) -> None:
        """Send `event` once the state that decided it is in Kafka: for answers the outside world
        acts on (an order's status), which a crash must not let the stage contradict by deciding
        again differently. A checkpoint follows the batch at once, so they wait milliseconds."""
        self._deferred.append((spec, event))

    def _deferred_waiting(self) -> bool:
        return bool(self._deferred) and (self._committing is None or self._committing.done())

    async def commit(self, wait: bool = True) -> None:
        """The checkpoint: write the decided values (one table write per changed key), send their
        changelog records, then commit what was applied once Kafka has everything it caused.
        With `wait=False` (the loop's periodic checkpoint) the wait for Kafka and the commit run
        in the background while the stage reads on; one checkpoint at a time."""
        async with self._commit_lock:  # revocation or stop may call while the loop's checkpoint runs
            await self._checkpoint(wait)

    async def _checkpoint(self, wait: bool) -> None:
        if self._committing is not None:
            await self._committing
        self._last_commit = started = time.monotonic()
        held = [record for pending in self.state for record in pending.flush()]
        deferred, self._deferred = self._deferred, []
        stored = time.monotonic()
        acknowledged = await send(held, self.app.producer)  # changelog records (runtime/batch.py)
        CHECKPOINT_SECONDS.labels(self.name, "writes").observe(stored - started)
        CHECKPOINT_SECONDS.labels(self.name, "send").observe(time.monotonic() - stored)
        offsets = dict(self.done) if self.consumer is not None else {}
        self._committing = asyncio.ensure_future(self._acknowledged_then_commit(offsets, acknowledged, len(held),
                                                                                started, deferred))
        if wait:
            await self._committing

    async def _acknowledged_then_commit(self, offsets: dict[TopicPartition, int],
                                        acknowledged: Callable[[], Awaitable[None]], values: int,
                                        started: float, deferred: list[tuple[TopicSpec, Event]]) -> None:
        sent = time.monotonic()
        try:  # every changelog record of this checkpoint, the outputs it kept back, every output of the records
            await acknowledged()
            for spec, event in deferred:
                await publish(spec, event)
            if offsets or deferred:
                await self.app.producer.flush()
        except Exception as err:  # Kafka refused a record: committing now could lose its state
            tp = next(iter(offsets), TopicPartition(self.topics[0], -1))
            fatal(self.name, tp.topic, tp.partition, offsets.get(tp, -1), err)
        flushed = time.monotonic()
        CHECKPOINT_SECONDS.labels(self.name, "flush").observe(flushed - sent)
        if not offsets or self.consumer is None:
            return
        try:
            await self.consumer.commit(offsets)
        except Exception as err:  # noqa: BLE001 (the next owner re-reads; the stage deduplicates)
            log.warning("%s: commit of %s failed (%r); those records will be applied again and recognised",
                        self.name, offsets, err)
            return
        done = time.monotonic()
        CHECKPOINT_SECONDS.labels(self.name, "commit").observe(done - flushed)
        if done - started > self.settings.commit_interval_s:  # the next one is due before this one ended
            log.warning("%s: slow checkpoint %.0f ms (%d values written and sent in %.0f, acknowledged after "
                        "%.0f, offsets committed in %.0f)", self.name, 1000 * (done - started), values,
                        1000 * (sent - started), 1000 * (flushed - sent), 1000 * (done - flushed))
        for tp, offset in offsets.items():
            if self.done.get(tp) == offset:
                del self.done[tp]

    async def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = self.position.get(tp)
            if position is None:  # nothing applied since the assignment: where the consumer stands
                position = self.position[tp] = await consumer.position(tp)
            self.lag[tp] = max(0, highwater - position)
