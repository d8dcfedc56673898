"""Applies each record of a SKU's log (movements and hold commands) to the stock table, once.

Writes the stock ledger and the hold answers. The decision is `domain.authority.apply`;
this module only loads, saves and sends.
"""

from __future__ import annotations

from typing import Any

from faust import StreamT

from agents.expire_holds import expiry_index
from domain.authority import Applied, SkuCommand, apply, remembers_first_offset
from domain.availability import availability, network_availability
from ops.metrics import EVENTS, HOLD_ANSWERS, MOVEMENTS, NEGATIVE_ON_HAND, STOCK_CONFLICTS, UNFLUSHED_DROPPED
from runtime import replies
from runtime.app import app, channel, settings
from runtime.dead_letters import send_dead_letter
from runtime.ledger_acks import LedgerAcks
from runtime.stage import Stage
from streams.codec import DecodeError, decode, encode
from streams.topics import INVENTORY_AVAILABILITY, INVENTORY_HOLD_ANSWERS, INVENTORY_LEDGER, INVENTORY_MOVEMENTS
from tables.applied import first_offset, remember
from tables.stock import forget_cached, get_stock, put_stock

ledger = channel(INVENTORY_LEDGER)
answers_topic = INVENTORY_HOLD_ANSWERS.full_name(settings.topic_prefix)
availability_topic = INVENTORY_AVAILABILITY.full_name(settings.topic_prefix)
_answer_counters: dict[str, Any] = {}
acks = LedgerAcks()
stage = Stage("apply_movements")


@app.on_partitions_assigned.connect
async def _forget_positions(app: object, *args: object, **kwargs: object) -> None:
    stage.forget_positions()
    expiry_index.invalidate()
    forget_cached()


@app.agent(channel(INVENTORY_MOVEMENTS))
async def apply_movements(stream: StreamT) -> None:
    await stage.run(stream, _process)


async def _process(message: Any) -> None:
    """One record of a SKU's log: decode, decide, save, send."""
    try:
        command = decode(INVENTORY_MOVEMENTS, message.value, settings.max_event_bytes)
    except DecodeError as err:
        await send_dead_letter(INVENTORY_MOVEMENTS, message, err.reason, "apply_movements")
        return
    deduped = remembers_first_offset(command)
    seen_at = first_offset(command.event_id) if deduped else None
    flushed_below = acks.acknowledged_below(message.tp, message.offset)
    outcome = apply(get_stock(command.sku), command, message.offset, seen_at, flushed_below)
    _save(outcome, command, deduped, seen_at, message.offset)
    for entry in outcome.ledger:
        # force: send now rather than attached to the next commit, so the ack comes fast
        future = await ledger.send(key=entry.sku.encode(), value=encode(entry), force=True)
        acks.sending(message.tp, message.offset, future)
    for answer in outcome.answers:
        await _send(answers_topic, answer.order_id.encode() or b"-", encode(answer))
        replies.answered(answer)
        _count_answer(answer.answer)
    await _publish_availability(outcome, command)
    expiry_index.note(outcome.stock)
    MOVEMENTS.labels(outcome.verdict).inc()
    UNFLUSHED_DROPPED.inc(outcome.dropped_unflushed)
    EVENTS.labels(INVENTORY_MOVEMENTS.name).inc()


async def _publish_availability(outcome: Applied, command: SkuCommand) -> None:
    """The latest ATP of what changed; also re-sent on redelivery, so a crash cannot leave it stale."""
    nodes = {getattr(command, "node", None) or ""} | {a.node for a in outcome.answers}
    nodes.discard("")
    if not nodes:
        return
    at = command.occurred_at
    for record in availability(outcome.stock, nodes, at, command.event_id):
        await _send(availability_topic, f"{record.sku}@{record.node}".encode(), encode(record))
    network = network_availability(outcome.stock, at, command.event_id)
    await _send(availability_topic, network.sku.encode(), encode(network))


async def _send(topic: str, key: bytes, value: bytes) -> None:
    """Straight to Faust's producer (no ack tracking needed): the channel layer costs more per
    record than the rest of a hold's sending. Faust flushes this producer before it commits."""
    await app.producer.send(topic=topic, key=key, value=value, partition=None, timestamp=None, headers=None)


def _count_answer(kind: str) -> None:
    counter = _answer_counters.get(kind)
    if counter is None:
        counter = _answer_counters[kind] = HOLD_ANSWERS.labels(kind)
    counter.inc()


def _save(outcome: Applied, command: object, deduped: bool, seen_at: int | None, offset: int) -> None:
    """Write what the record decided. A redelivered record writes the state (and its id's first
    offset) again although nothing changed: after a SIGKILL the local RocksDB store can hold a
    write whose changelog record never reached Kafka, and only a new changelog record saves it
    from being lost when the partition is next recovered from the changelog (docs/inventory-slice.md)."""
    if outcome.verdict in ("applied", "redelivered"):
        put_stock(outcome.stock)
    if outcome.verdict == "applied":
        node = getattr(command, "node", None)
        if node and outcome.stock.position(node).on_hand < 0:
            NEGATIVE_ON_HAND.inc()
    if outcome.conflict:
        STOCK_CONFLICTS.inc()
    if deduped and outcome.remember_first_offset is not None:
        remember(command.event_id, outcome.remember_first_offset)  # type: ignore[attr-defined]
    elif deduped and outcome.verdict == "redelivered":
        remember(command.event_id, seen_at if seen_at is not None else offset)  # type: ignore[attr-defined]
