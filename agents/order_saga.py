"""The order saga: online orders become holds on every SKU they need, all or nothing.

Consumes `web.orders` (placed, cancelled, shipped, picked up) and `inventory.hold-answers`,
both keyed by order id and co-partitioned with the `orders` table; sends hold commands
straight onto the SKU logs (`inventory.movements`, keyed by SKU, so an order's place and its
compensating release of one SKU stay in send order) and the order's answers to
`orders.status`. The decisions are `domain.orders.decide`; this module loads, saves, sends.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiokafka.partitioner import murmur2
from faust import StreamT

from domain.orders import SagaInput, decide
from ops.metrics import EVENTS, ORDER_STATUSES, SAGA_INPUTS
from runtime.app import app, channel, channels, settings
from runtime.dead_letters import send_dead_letter
from runtime.stage import Stage
from streams.codec import DecodeError, decode, encode
from streams.holds import HoldAnswered
from streams.orders import DeliveryMode, OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.topics import INVENTORY_HOLD_ANSWERS, INVENTORY_MOVEMENTS, ORDERS_STATUS, WEB_ORDERS, spec_for
from tables.orders import get_order, put_order

log = logging.getLogger("omnistream.orders")
commands = channel(INVENTORY_MOVEMENTS)
statuses = channel(ORDERS_STATUS)
stage = Stage("order_saga")
SAGA_TYPES = (OrderPlaced, OrderCancelled, OrderShipped, OrderPickedUp, HoldAnswered)


def ttl_for(delivery: DeliveryMode) -> timedelta:
    """How long an order's holds last: the pick-up window, or the time to ship."""
    seconds = settings.pickup_window_s if delivery == "pick_up_in_store" else settings.order_hold_ttl_s
    return timedelta(seconds=seconds)


@app.on_partitions_assigned.connect
async def _forget_positions(app: object, *args: object, **kwargs: object) -> None:
    stage.forget_positions()


@app.agent(channels(WEB_ORDERS, INVENTORY_HOLD_ANSWERS))
async def order_saga(stream: StreamT) -> None:
    await stage.run(stream, _process)


async def _process(message: Any) -> None:
    spec = spec_for(message.topic, settings.topic_prefix)
    try:
        event = decode(spec, message.value, settings.max_event_bytes)
    except DecodeError as err:
        if spec is INVENTORY_HOLD_ANSWERS:
            await send_dead_letter(spec, message, err.reason, "order_saga")
        # web.orders: the router dead-letters it (one dead letter per bad record, not two)
        SAGA_INPUTS.labels(spec.name, "undecodable").inc()
        return
    if not isinstance(event, SAGA_TYPES):
        return
    if spec is WEB_ORDERS:
        reason = misplaced(message.key, message.partition, event.order_id)
        if reason:
            await send_dead_letter(spec, message, reason, "order_saga")
            SAGA_INPUTS.labels(spec.name, "misplaced").inc()
            return
    await _apply(event, spec.name, message.offset)


def misplaced(key: bytes | None, partition: int, order_id: str) -> str | None:
    """Why an order record cannot meet its hold answers, if it cannot: they are keyed by order
    id and partitioned by murmur2 (Kafka's default), so the order's state must be there too."""
    if key != order_id.encode():
        return f"web.orders records must be keyed by order_id ({order_id!r}), got {key!r}"
    expected = (murmur2(key) & 0x7FFFFFFF) % WEB_ORDERS.partitions
    if partition != expected:
        return (
            f"order {order_id} arrived on partition {partition}, Kafka's default partitioner puts it on "
            f"{expected}: publish with murmur2 (kcat: -X topic.partitioner=murmur2_random)"
        )
    return None


async def _apply(event: SagaInput, topic: str, offset: int) -> None:
    state = get_order(event.order_id)
    step = decide(state, event, topic, offset, ttl_for)
    if step.state is not None and step.verdict in ("applied", "redelivered"):
        put_order(step.state)  # redelivered: written again, in case only the local store kept it
    for command in step.commands:
        await commands.send(key=command.sku.encode(), value=encode(command))
    for status in step.statuses:
        await statuses.send(key=status.order_id.encode(), value=encode(status))
        if step.verdict == "applied":
            ORDER_STATUSES.labels(status.status).inc()
            log.info("order %s %s %s", status.order_id, status.status, status.reason)
    if step.verdict == "ignored" and not isinstance(event, HoldAnswered):
        log.warning("%s for unknown order %s ignored: no order.placed seen for it", event.type, event.order_id)
    SAGA_INPUTS.labels(topic, step.verdict).inc()
    EVENTS.labels(topic).inc()
