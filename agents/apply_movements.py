"""Applies each record of a SKU's log (movements and hold commands) to the stock table, once.

A batch-native stage (runtime/source.py): per batch of a partition it decodes every record,
applies `tables.stock_once.apply` (the authority's decision inside the runtime's
exactly-once bookkeeping) in log order to each SKU's latest value, then sends the
batch's ledger entries and hold answers, and one availability update per SKU and node it
changed. Changed SKUs and remembered ids are written once per checkpoint (runtime/batch.py).
The decision is the domain's; this module only loads, saves and sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import TopicPartition

from agents.expire_holds import expiry_index
from domain.authority import dedupes_by_id
from domain.availability import availability, network_availability
from ops.metrics import EVENTS, HOLD_ANSWERS, MOVEMENTS, NEGATIVE_ON_HAND, STOCK_CONFLICTS, UNFLUSHED_DROPPED
from runtime import replies
from runtime.app import after_assignment, app, settings
from runtime.dead_letters import decode_batch
from runtime.ledger_acks import LedgerAcks
from runtime.publish import publish
from runtime.source import OwnedSource
from streams.topics import INVENTORY_AVAILABILITY, INVENTORY_HOLD_ANSWERS, INVENTORY_LEDGER, INVENTORY_MOVEMENTS
from tables.applied import applied_state
from tables.stock import forget_cached, stock_state, stock_table
from tables.stock_once import Applied, apply

_answer_counters: dict[str, Any] = {}
acks = LedgerAcks()


@after_assignment
async def _forget_positions() -> None:
    expiry_index.invalidate()
    forget_cached()


@dataclass
class _Touched:
    """What availability must say for one SKU after the batch."""

    nodes: set[str] = field(default_factory=set)
    at: datetime | None = None
    cause_id: str = ""


async def apply_batch(tp: TopicPartition, records: list[Any]) -> None:
    """One partition's records, in log order: decide each, then save and send once."""
    stocks = stock_state
    changed: dict[str, None] = {}
    ledger: list[tuple[int, Any]] = []  # (source offset, entry)
    answers: list[Any] = []
    touched: dict[str, _Touched] = {}
    for record, command in await decode_batch(INVENTORY_MOVEMENTS, records, "apply_movements"):
        seen_at = applied_state.get(command.event_id) if dedupes_by_id(command) else None
        flushed_below = acks.acknowledged_below(tp, record.offset)
        outcome = apply(stocks.get(command.sku), command, record.offset, seen_at, flushed_below)
        if outcome.verdict in ("applied", "redelivered"):
            # also when redelivered: the local store may hold a write whose changelog record never
            # reached Kafka (SIGKILL), and only a new changelog record keeps it (docs/inventory-slice.md)
            stocks.put(command.sku, outcome.stock)
            changed[command.sku] = None
        if outcome.remember_first_offset is not None:  # also again when redelivered (runtime/once.py)
            applied_state.put(command.event_id, outcome.remember_first_offset)
        for entry in outcome.ledger:
            acks.expecting(tp, record.offset)  # before the next record asks what is acknowledged
            ledger.append((record.offset, entry))
        answers += outcome.answers
        _touch(touched, outcome, command)
        _count(outcome, command)
    for sku in changed:
        expiry_index.note(stocks.get(sku))
    await _send_all(tp, ledger, answers, touched)


def _touch(touched: dict[str, _Touched], outcome: Applied, command: Any) -> None:
    """Availability is re-sent for what a record touched, also on redelivery, so that a crash
    cannot leave it stale; within a batch only the last figure per SKU and node is sent."""
    nodes = {getattr(command, "node", None) or ""} | {a.node for a in outcome.answers}
    nodes.discard("")
    if not nodes:
        return
    mark = touched.setdefault(command.sku, _Touched())
    mark.nodes |= nodes
    mark.at = command.occurred_at
    mark.cause_id = command.event_id


def _count(outcome: Applied, command: Any) -> None:
    MOVEMENTS.labels(outcome.verdict).inc()
    UNFLUSHED_DROPPED.inc(outcome.dropped_unflushed)
    EVENTS.labels(INVENTORY_MOVEMENTS.name).inc()
    if outcome.verdict == "applied":
        node = getattr(command, "node", None)
        if node and outcome.stock.position(node).on_hand < 0:
            NEGATIVE_ON_HAND.inc()
    if outcome.conflict:
        STOCK_CONFLICTS.inc()


async def _send_all(tp: TopicPartition, ledger: list[tuple[int, Any]], answers: list[Any],
                    touched: dict[str, _Touched]) -> None:
    for offset, entry in ledger:  # each acknowledged per source offset (see runtime/ledger_acks.py)
        acks.sending(tp, offset, await publish(INVENTORY_LEDGER, entry))
    for answer in answers:
        await publish(INVENTORY_HOLD_ANSWERS, answer)
        replies.answered(answer)
        _count_answer(answer.answer)
    for sku, mark in touched.items():
        stock = stock_state.get(sku)
        assert mark.at is not None
        for record in availability(stock, mark.nodes, mark.at, mark.cause_id):
            await publish(INVENTORY_AVAILABILITY, record)
        await publish(INVENTORY_AVAILABILITY, network_availability(stock, mark.at, mark.cause_id))


def _count_answer(kind: str) -> None:
    counter = _answer_counters.get(kind)
    if counter is None:
        counter = _answer_counters[kind] = HOLD_ANSWERS.labels(kind)
    counter.inc()


source = OwnedSource(app, settings, "apply_movements", INVENTORY_MOVEMENTS.full_name(settings.topic_prefix),
                     stock_table, apply_batch, state=(stock_state, applied_state))
