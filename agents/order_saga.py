"""The order saga: online orders become holds on every SKU they need, all or nothing.

Consumes `web.orders` (placed, cancelled, shipped, picked up), `inventory.hold-answers` and
`fulfilment.store-responses`, all keyed by order id and co-partitioned with the `orders` table; sends hold commands
straight onto the SKU logs (`inventory.movements`, keyed by SKU, so an order's place and its
compensating release of one SKU stay in send order) and the order's answers to
`orders.status`. An order without a node is sourced against this worker's snapshot
(`tables/snapshot.py`) and its decision sent to `fulfilment.decisions`. The decisions are
`domain.orders.decide`; this module loads, saves, sends.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiokafka import TopicPartition
from aiokafka.partitioner import murmur2

from domain.orders import OrderState, SagaInput, Step, decide
from ops.metrics import EVENTS, ORDER_STATUSES, SAGA_INPUTS, SOURCING_DECISIONS, SOURCING_SECONDS
from runtime.app import app, settings
from runtime.batch import Pending
from runtime.dead_letters import decode_batch, send_dead_letter
from runtime.publish import publish
from runtime.source import OwnedSource
from streams.base import Event
from streams.fulfilment import StoreResponded
from streams.holds import HoldAnswered, PlaceHold
from streams.orders import DeliveryMode, OrderCancelled, OrderPickedUp, OrderPlaced, OrderShipped
from streams.topics import (
    FULFILMENT_DECISIONS,
    FULFILMENT_STORE_RESPONSES,
    INVENTORY_HOLD_ANSWERS,
    INVENTORY_MOVEMENTS,
    INVENTORY_TRANSFER_SUGGESTIONS,
    ORDERS_STATUS,
    WEB_ORDERS,
    TopicSpec,
    spec_for,
)
from tables.orders import decision_state, order_state, orders_table
from tables.snapshot import live_snapshot, sourcer

log = logging.getLogger("omnistream.orders")
SAGA_TYPES = (OrderPlaced, OrderCancelled, OrderShipped, OrderPickedUp, HoldAnswered, StoreResponded)
source_order = sourcer(live_snapshot, settings.sourcing_profile)


def ttl_for(delivery: DeliveryMode) -> timedelta:
    """How long an order's holds last: the pick-up window, or the time to ship."""
    seconds = settings.pickup_window_s if delivery == "pick_up_in_store" else settings.order_hold_ttl_s
    return timedelta(seconds=seconds)


async def saga_batch(tp: TopicPartition, records: list[Any]) -> None:
    """One partition of `web.orders` or `inventory.hold-answers`, in log order, against each
    order's latest state (written once per checkpoint); hold commands and statuses sent after."""
    spec = spec_for(tp.topic, settings.topic_prefix)
    orders = order_state
    sends: list[tuple[TopicSpec, Event]] = []
    # web.orders: the router dead-letters a bad record already (one dead letter per record, not two)
    undecodable = SAGA_INPUTS.labels(spec.name, "undecodable").inc
    live_snapshot.expire_reservations()
    for record, event in await decode_batch(spec, records, "order_saga", dead_letter=spec is not WEB_ORDERS,
                                            undecodable=undecodable):
        if not isinstance(event, SAGA_TYPES):
            continue
        if spec is WEB_ORDERS or spec is FULFILMENT_STORE_RESPONSES:
            reason = misplaced(record.key, record.partition, event.order_id, spec)
            if reason:
                await send_dead_letter(spec, record, reason, "order_saga")
                SAGA_INPUTS.labels(spec.name, "misplaced").inc()
                continue
        sends += _apply(orders, event, spec.name, record.offset)
    for out_spec, event in sends:
        await publish(out_spec, event)


def _note_holds(step: Step, event: SagaInput) -> None:
    """Tell the snapshot about holds placed (so the next order does not count their units) and answered."""
    if isinstance(event, HoldAnswered):
        live_snapshot.settle(event)
    if step.verdict != "applied":
        return
    for command in step.commands:
        if isinstance(command, PlaceHold):
            live_snapshot.reserve(command.hold_id, command.sku, command.node, command.quantity, command.order_id)


def misplaced(key: bytes | None, partition: int, order_id: str, spec: TopicSpec = WEB_ORDERS) -> str | None:
    """Why an order record cannot meet its hold answers, if it cannot: they are keyed by order
    id and partitioned by murmur2 (Kafka's default), so the order's state must be there too."""
    if key != order_id.encode():
        return f"{spec.name} records must be keyed by order_id ({order_id!r}), got {key!r}"
    expected = (murmur2(key) & 0x7FFFFFFF) % spec.partitions
    if partition != expected:
        return (
            f"order {order_id} arrived on partition {partition}, Kafka's default partitioner puts it on "
            f"{expected}: publish with murmur2 (kcat: -X topic.partitioner=murmur2_random)"
        )
    return None


def _apply(orders: Pending[str, OrderState | None], event: SagaInput, topic: str,
           offset: int) -> list[tuple[TopicSpec, Event]]:
    if isinstance(event, StoreResponded) or (isinstance(event, HoldAnswered) and event.answer == "rejected"):
        live_snapshot.forget_order(event.order_id)  # it may decide again: its own holds are not others'
    step = decide(orders.get(event.order_id), event, topic, offset, ttl_for, source_order)
    if step.state is not None and step.verdict in ("applied", "redelivered"):
        orders.put(event.order_id, step.state)  # redelivered: written again, in case only the local store kept it
    _note_holds(step, event)
    made = step.decisions
    if step.decisions:
        decision_state.put(event.order_id, [*decision_state.get(event.order_id), *step.decisions])
    elif step.verdict in ("redelivered", "duplicate"):
        made = decision_state.get(event.order_id)  # sent again with the statuses (the same ids)
        if made and step.verdict == "redelivered":
            decision_state.put(event.order_id, made)  # in case only the local store kept them
    # Everything the order's step sends waits for the checkpoint that keeps the state deciding it:
    # a crash before it has the order decided again, maybe differently (a sourced order's plan
    # depends on the snapshot), and nothing sent may belong to a plan the state forgot: no answer
    # contradicted, no hold left behind.
    for spec, out in [*((INVENTORY_MOVEMENTS, c) for c in step.commands),
                      *((FULFILMENT_DECISIONS, d) for d in made),
                      *((INVENTORY_TRANSFER_SUGGESTIONS, t) for t in step.suggestions),
                      *((ORDERS_STATUS, st) for st in step.statuses)]:
        source.after_checkpoint(spec, out)
    sends: list[tuple[TopicSpec, Event]] = []
    for decided in step.decisions if step.verdict == "applied" else ():
        SOURCING_DECISIONS.labels(decided.outcome).inc()
        SOURCING_SECONDS.observe(decided.decide_ms / 1000)
    for status in step.statuses:
        if step.verdict == "applied":
            ORDER_STATUSES.labels(status.status).inc()
            log.info("order %s %s %s", status.order_id, status.status, status.reason)
    if step.verdict == "ignored" and not isinstance(event, HoldAnswered):
        log.warning("%s for unknown order %s ignored: no order.placed seen for it", event.type, event.order_id)
    SAGA_INPUTS.labels(topic, step.verdict).inc()
    EVENTS.labels(topic).inc()
    return sends


_sources = tuple(spec.full_name(settings.topic_prefix)
                 for spec in (WEB_ORDERS, INVENTORY_HOLD_ANSWERS, FULFILMENT_STORE_RESPONSES))
source = OwnedSource(app, settings, "order_saga", _sources, orders_table, saga_batch,
                     state=(order_state, decision_state),
                     also_ready=lambda: live_snapshot.caught_up)
