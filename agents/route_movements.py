"""Routes every ingest record to stock movements, identity requests and fraud facts, or to its dead-letter topic.

This stage keeps no state, so it runs on a plain aiokafka consumer and producer inside each
worker (consumer group `<app id>-router`) rather than on a Faust stream: it commits a source
offset only after Kafka acknowledged every record derived from it and from every offset before
it (`_Acked`), every `OMNI_COMMIT_INTERVAL_S`, when idle and before its partitions move; it reads
on while Kafka acknowledges, so a record never waits for an earlier batch's acks or commit. Under crash tests Faust's
own offset tracking skipped records after a restart (docs/inventory-slice.md); here the rule
is explicit and small enough to read. Redelivery after a crash re-sends the same movement ids,
which the stock table recognises.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from domain.fraud_facts import facts_for
from domain.identity import InvalidIdentifierError, identity_requests_for
from domain.movements import batch_places, sku_commands_for
from domain.pricing.routing import book_entries_for, redemptions_for
from domain.redaction import notice_of
from ops.metrics import DEAD_LETTERS, EVENTS
from runtime import lags
from runtime.app import app, settings
from runtime.offsets import HoleDetector
from runtime.publish import publish
from streams.base import Event
from streams.codec import DecodeError, decode
from streams.deadletter import DeadLetter, now_utc
from streams.fraud import FraudTick
from streams.topics import (
    DEAD_LETTER_NOTICES,
    FRAUD_FACTS,
    IDENTITY_REQUESTS,
    INGEST_TOPICS,
    INVENTORY_MOVEMENTS,
    PRICING_BOOK,
    PRICING_REDEMPTIONS,
    spec_for,
)

log = logging.getLogger("omnistream.router")

BATCH_MAX = 500
IDLE_POLL_MS = 200
TICK_S = max(1.0, settings.fraud_join_grace_s / 3)  # how often the fraud rules' clock ticks
# Counted, not re-read: this consumer commits only what Kafka acknowledged, so a jump would be an aiokafka bug.
holes = HoleDetector("route_movements", rereads=False)
next_offset: dict[TopicPartition, int] = {}
lag: dict[tuple[str, int], int] = {}
lags.register(lambda: lag)  # read by the /metrics view


def _clients() -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
    common = {"bootstrap_servers": settings.bootstrap.split(","), **settings.security.aiokafka_kwargs()}
    consumer = AIOKafkaConsumer(
        group_id=f"{settings.app_id}-router",
        client_id=f"{settings.app_id}-router",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=int(settings.session_timeout_s * 1000),
        heartbeat_interval_ms=1000,
        max_poll_records=BATCH_MAX,
        **common,
    )
    producer = AIOKafkaProducer(
        client_id=f"{settings.app_id}-router",
        acks="all",
        enable_idempotence=True,
        linger_ms=int(settings.producer_linger_s * 1000),
        # aiokafka fails a batch whose partition has had no leader for this long (its default, 40 s, is
        # shorter than a cluster restart): the records wait for the cluster instead (docs/operations.md)
        request_timeout_ms=int(settings.kafka_outage_s * 1000),
        **common,
    )
    return consumer, producer


class _Acked:
    """Routed batches whose records Kafka has not yet acknowledged, oldest first; the offsets of
    those it has, ready to commit. The router reads on while Kafka acknowledges (a hold waits for
    no earlier batch's acks), and a source offset is committed only once everything routed from
    it and from every offset before it is in Kafka."""

    def __init__(self) -> None:
        self.waiting: deque[tuple[dict[TopicPartition, int], asyncio.Future[Any]]] = deque()
        self.ready: dict[TopicPartition, int] = {}
        self.last_commit = time.monotonic()

    def add(self, offsets: dict[TopicPartition, int], sends: list[Awaitable[object]]) -> None:
        self.waiting.append((offsets, asyncio.ensure_future(asyncio.gather(*sends))))

    def _collect(self) -> None:
        while self.waiting and self.waiting[0][1].done():
            offsets, acked = self.waiting.popleft()
            try:
                acked.result()  # a send Kafka refused: the task fails, nothing after it is committed
            except KafkaError as err:
                log.error("Kafka did not take routed records (%r) within OMNI_KAFKA_OUTAGE_S=%.0f s: stopping the "
                          "worker. Nothing is lost: restarted, it routes again from the last committed offsets. "
                          "Check the cluster (python -m broker status; /health's kafka) before restarting it.",
                          err, settings.kafka_outage_s)
                raise
            self.ready.update(offsets)

    async def commit(self, consumer: AIOKafkaConsumer, *, wait: bool = False) -> None:
        """Commit what Kafka acknowledged; with `wait`, everything routed so far (revocation, stop)."""
        if wait and self.waiting:
            await asyncio.gather(*(acked for _, acked in self.waiting))
        self._collect()
        if not self.ready:
            return
        offsets, self.ready = self.ready, {}
        self.last_commit = time.monotonic()
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as err:  # a rebalance took the partitions: redelivered
            log.warning("commit after routing failed (%s): the new owner re-routes, the stock table deduplicates", err)
            holes.forget()

    def due(self, interval_s: float) -> bool:
        return time.monotonic() - self.last_commit >= interval_s


class _Reassigned(ConsumerRebalanceListener):  # type: ignore[misc]
    """Before partitions move, everything routed from them is acknowledged and committed, so the
    next owner starts after it. After a rebalance a partition resumes at its committed offset,
    which another worker may have moved on: that is not a jump."""

    def __init__(self, consumer: AIOKafkaConsumer, acked: _Acked) -> None:
        self.consumer, self.acked = consumer, acked

    async def on_partitions_revoked(self, revoked: object) -> None:
        await self.acked.commit(self.consumer, wait=True)

    async def on_partitions_assigned(self, assigned: object) -> None:
        holes.forget()


@app.task
async def route_movements() -> None:
    consumer, producer = _clients()
    await producer.start()
    await consumer.start()
    acked = _Acked()
    consumer.subscribe([spec.full_name(settings.topic_prefix) for spec in INGEST_TOPICS],
                       listener=_Reassigned(consumer, acked))
    log.info("router consuming %d ingest topics", len(INGEST_TOPICS))
    if not settings.identity_key:
        log.warning("OMNI_IDENTITY_KEY is empty: identifier hashes can be recomputed by anyone; set a secret key")
    last_tick = 0.0
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=BATCH_MAX)
            if batches:
                acked.add(*await _route(producer, batches))
            if acked.due(settings.commit_interval_s) or not batches:
                await acked.commit(consumer)
            _report_lag(consumer)
            if time.monotonic() - last_tick >= TICK_S:
                last_tick = time.monotonic()
                await _tick(producer)
    finally:
        await acked.commit(consumer, wait=True)
        await consumer.stop()
        await producer.stop()


async def _route(
    producer: AIOKafkaProducer, batches: dict[TopicPartition, list[ConsumerRecord]]
) -> tuple[dict[TopicPartition, int], list[Awaitable[object]]]:
    """Send everything the batch causes; the batch's next offsets and the sends' acknowledgements.

    A SKU's consecutive places within the batch travel as one record (`batch_places`): under
    load the owner then decides many holds per record; at low load batches hold one command.
    """
    sends: list[Awaitable[object]] = []
    commands: list[Event] = []
    for records in batches.values():
        for record in records:
            holes.saw(record.topic, record.partition, record.offset)
            routed, letter = await _route_one(producer, record)
            commands += routed
            sends += letter
    for command in batch_places(commands):
        sends.append(await publish(INVENTORY_MOVEMENTS, command, via=producer))
    offsets = {tp: records[-1].offset + 1 for tp, records in batches.items()}
    next_offset.update(offsets)
    return offsets, sends


async def _route_one(
    producer: AIOKafkaProducer, record: ConsumerRecord
) -> tuple[list[Event], list[Awaitable[object]]]:
    """The SKU-log commands of one ingest record, or the send of its dead letter."""
    spec = spec_for(record.topic, settings.topic_prefix)
    try:
        event = decode(spec, record.value, settings.max_event_bytes)
    except DecodeError as err:
        return [], [await _dead_letter(producer, record, spec.name, spec.dlq_name, err.reason)]
    EVENTS.labels(spec.name).inc()
    try:
        identity = identity_requests_for(event, settings.identity_key)
    except InvalidIdentifierError as err:  # the stock part still counts; the loyalty part cannot
        commands = sku_commands_for(event)
        routed = " (stock movements of this record were routed)" if commands else ""
        reason = f"customer identifier: {err}{routed}"
        letter = await _dead_letter(producer, record, spec.name, spec.dlq_name, reason)
        return commands, [letter, *await _fraud_facts(producer, event), *await _pricing(producer, event)]
    sends = [await publish(IDENTITY_REQUESTS, request, via=producer) for request in identity]
    return sku_commands_for(event), sends + await _fraud_facts(producer, event) + await _pricing(producer, event)


async def _pricing(producer: AIOKafkaProducer, event: Event) -> list[Awaitable[object]]:
    """Book entries onto the price book; sales, orders, returns onto the redemptions log."""
    sends = [await publish(PRICING_BOOK, entry, via=producer) for entry in book_entries_for(event)]
    return sends + [await publish(PRICING_REDEMPTIONS, command, via=producer) for command in redemptions_for(event)]


async def _tick(producer: AIOKafkaProducer) -> None:
    """A tick on every partition of fraud.facts: the fraud rules' clock when the stream is quiet."""
    topic = FRAUD_FACTS.full_name(settings.topic_prefix)
    now = datetime.now(UTC)
    for partition in sorted(await producer.partitions_for(topic)):
        tick = FraudTick(event_id=f"tick-{os.getpid()}-{partition}-{int(now.timestamp() * 1000)}", occurred_at=now,
                         source_node="router", partition=partition)
        await publish(FRAUD_FACTS, tick, partition=partition, via=producer)


async def _fraud_facts(producer: AIOKafkaProducer, event: Event) -> list[Awaitable[object]]:
    """The event's facts for the fraud rules, each keyed by the entity its rule judges."""
    return [await publish(FRAUD_FACTS, fact, via=producer) for fact in facts_for(event, settings.identity_key)]


async def _dead_letter(
    producer: AIOKafkaProducer, record: ConsumerRecord, source: str, dlq_name: str, reason: str
) -> Awaitable[object]:
    letter = DeadLetter(
        source_topic=record.topic, source_partition=record.partition, source_offset=record.offset,
        key=record.key, raw=record.value, reason=reason, consumer="route_movements", failed_at=now_utc(),
    )
    DEAD_LETTERS.labels(source).inc()
    log.warning("dead-lettered %s[%d]@%d to %s%s: %s", record.topic, record.partition, record.offset,
                settings.topic_prefix, dlq_name, reason)
    dlq_topic = settings.topic_prefix + dlq_name
    sent = await producer.send(dlq_topic, key=letter.key, value=letter.raw, headers=letter.headers())
    at = await sent  # rare: the notice names the dead letter's offset, so wait for it
    return await publish(DEAD_LETTER_NOTICES, notice_of(letter, dlq_topic, at.partition, at.offset), via=producer)


def _report_lag(consumer: AIOKafkaConsumer) -> None:
    """Lag per assigned ingest partition: high watermark minus the next offset to route."""
    lag.clear()
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lag[(tp.topic, tp.partition)] = max(0, highwater - next_offset.get(tp, highwater))
