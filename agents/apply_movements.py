"""Applies each SKU-keyed movement to the stock table exactly once and writes the stock ledger."""

from __future__ import annotations

from faust import StreamT

from agents.dead_letters import send_dead_letter
from agents.ledger_acks import LedgerAcks
from app import app, channel, settings
from domain.stock import apply_movement
from ops.metrics import EVENTS, MOVEMENTS, NEGATIVE_ON_HAND, UNFLUSHED_DROPPED
from ops.offsets import HoleDetector
from streams.codec import DecodeError, decode, encode
from streams.topics import INVENTORY_LEDGER, INVENTORY_MOVEMENTS
from tables.applied import first_offset, remember
from tables.stock import get_stock, put_stock

ledger = channel(INVENTORY_LEDGER)
acks = LedgerAcks()
holes = HoleDetector("apply_movements")


@app.on_partitions_assigned.connect
async def _forget_positions(app: object, *args: object, **kwargs: object) -> None:
    holes.forget()


@app.agent(channel(INVENTORY_MOVEMENTS))
async def apply_movements(stream: StreamT) -> None:
    async for event in stream.events():
        message = event.message
        holes.saw(message.topic, message.partition, message.offset)
        try:
            movement = decode(INVENTORY_MOVEMENTS, message.value, settings.max_event_bytes)
        except DecodeError as err:
            await send_dead_letter(INVENTORY_MOVEMENTS, message, err.reason, "apply_movements")
            continue
        flushed_below = acks.acknowledged_below(message.tp, message.offset)
        outcome = apply_movement(
            get_stock(movement.sku), movement, message.offset, first_offset(movement.event_id), flushed_below
        )
        if outcome.verdict == "applied":
            put_stock(outcome.stock)
            if outcome.stock.position(movement.node).on_hand < 0:
                NEGATIVE_ON_HAND.inc()
        if outcome.remember_first_offset is not None:
            remember(movement.event_id, outcome.remember_first_offset)
        for entry in outcome.emitted:
            # force: send now rather than attached to the next commit, so the ack comes fast
            future = await ledger.send(key=entry.sku.encode(), value=encode(entry), force=True)
            acks.sending(message.tp, message.offset, future)
        MOVEMENTS.labels(outcome.verdict).inc()
        UNFLUSHED_DROPPED.inc(outcome.dropped_unflushed)
        EVENTS.labels(INVENTORY_MOVEMENTS.name).inc()
