"""The order saga: an online order with several lines becomes one hold per SKU, all or nothing. Pure.

An order's lines live on different SKU logs (different partitions, maybe different workers),
so no single decision can take all of them. The saga, keyed by the order, asks for one hold
per SKU (quantities of the same SKU on several lines summed first) and waits for the answers:

- every hold granted: the order is `accepted` (its one clear answer);
- any hold rejected: the order is `rejected` with that line's reason, and every other hold is
  released (a compensating release; a hold not yet answered is released after it is placed,
  because both travel on the same SKU log in send order);
- later: a cancellation releases the cancelled units (partly, if only some are cancelled);
  shipment or pick-up commits the holds; a pick-up hold that expires is a `no_show`, a delivery
  hold that expires is `hold_expired`; a hold released because a till sold its units is a
  `stock_conflict` (the order is flagged, its other holds kept: docs/inventory.md).

Exactly once on at-least-once delivery: every command the saga sends stays in the order's
`outbox` until the authority's answer names its command id; a redelivered input (its offset
at or below the one the order last applied from that topic) re-sends the outbox and the
status history. Commands are idempotent at the authority (by hold id and command id), status
events by their `<order id>:<status>` id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from domain.holds import STORE_SALE_CONFLICT
from domain.ids import derived_id
from streams.base import Record, UtcDatetime
from streams.holds import CommitHold, HoldAnswered, PlaceHold, ReleaseHold
from streams.orders import (
    DeliveryMode,
    OrderCancelled,
    OrderLineStatus,
    OrderPickedUp,
    OrderPlaced,
    OrderShipped,
    OrderStatus,
    OrderStatusChanged,
)

HoldState = Literal["pending", "granted", "rejected", "committed", "released", "expired", "unknown"]
SagaStatus = Literal["pending"] | OrderStatus
SagaCommand = PlaceHold | CommitHold | ReleaseHold
SagaInput = OrderPlaced | OrderCancelled | OrderShipped | OrderPickedUp | HoldAnswered
FINAL: frozenset[str] = frozenset({"rejected", "cancelled", "shipped", "picked_up", "no_show", "hold_expired"})
_RESOLVED_HOLD: frozenset[str] = frozenset({"rejected", "committed", "released", "expired"})
HOLD_ID_MAX = 160


class Line(Record):
    """One SKU of the order: units still wanted and the state of its hold as last answered."""

    sku: str
    hold_id: str
    quantity: int
    hold: HoldState = "pending"
    reason: str | None = None


class StatusEntry(Record):
    status: OrderStatus
    reason: str
    at: UtcDatetime


class OrderState(Record):
    order_id: str
    delivery: DeliveryMode
    node: str
    placed_at: UtcDatetime
    expires_at: UtcDatetime
    status: SagaStatus = "pending"
    lines: dict[str, Line] = Field(default_factory=dict)  # by SKU
    outbox: dict[str, str] = Field(default_factory=dict)  # command id -> the command's JSON
    history: list[StatusEntry] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list)  # ids of cancellations and fulfilments applied
    offsets: dict[str, int] = Field(default_factory=dict)  # topic -> last offset applied


@dataclass(frozen=True)
class Step:
    """What one input did: the order's new state and what to send."""

    state: OrderState | None
    commands: list[SagaCommand] = field(default_factory=list)
    statuses: list[OrderStatusChanged] = field(default_factory=list)
    verdict: Literal["applied", "redelivered", "duplicate", "ignored"] = "applied"


TtlFor = Callable[[DeliveryMode], timedelta]


def hold_id_for(order_id: str, sku: str) -> str:
    plain = f"{order_id}/{sku}"
    if len(plain) <= HOLD_ID_MAX:
        return plain
    return f"d-{hashlib.sha256(plain.encode()).hexdigest()[:40]}/{sku}"


def decide(state: OrderState | None, event: SagaInput, topic: str, offset: int, ttl_for: TtlFor) -> Step:
    """Apply one input, read at `offset` of `topic`, to the order's state."""
    if state is not None and offset <= state.offsets.get(topic, -1):
        return Step(state, resend(state), history(state), "redelivered")
    match event:
        case OrderPlaced():
            step = _placed(state, event, ttl_for)
        case HoldAnswered():
            step = _answered(state, event) if state is not None else Step(None, verdict="ignored")
        case OrderCancelled():
            step = _cancelled(state, event) if state is not None else Step(None, verdict="ignored")
        case OrderShipped() | OrderPickedUp():
            step = _fulfilled(state, event) if state is not None else Step(None, verdict="ignored")
    if step.state is None:
        return step
    offsets = {**step.state.offsets, topic: offset}
    return Step(step.state.model_copy(update={"offsets": offsets}), step.commands, step.statuses, step.verdict)


def resend(state: OrderState) -> list[SagaCommand]:
    """Every command not yet answered, as first sent (same ids: idempotent at the authority)."""
    out: list[SagaCommand] = []
    for raw in state.outbox.values():
        kind = _COMMAND_TYPES[_type_of(raw)]
        out.append(kind.model_validate_json(raw))
    return out


def history(state: OrderState) -> list[OrderStatusChanged]:
    return [_status_event(state, entry) for entry in state.history]


def _placed(state: OrderState | None, event: OrderPlaced, ttl_for: TtlFor) -> Step:
    if state is not None:  # the same order again: answer as before
        return Step(state, resend(state), history(state), "duplicate")
    wanted: dict[str, int] = {}
    for line in event.lines:  # the same SKU on several lines is one hold for their sum
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    expires_at = event.occurred_at + ttl_for(event.delivery)
    lines = {sku: Line(sku=sku, hold_id=hold_id_for(event.order_id, sku), quantity=q) for sku, q in wanted.items()}
    state = OrderState(
        order_id=event.order_id, delivery=event.delivery, node=event.fulfilment_node,
        placed_at=event.occurred_at, expires_at=expires_at, lines=lines,
    )
    commands: list[SagaCommand] = [
        PlaceHold(
            event_id=derived_id(event.event_id, f"hold:{n}"), occurred_at=event.occurred_at,
            source_node=event.source_node, hold_id=line.hold_id, order_id=event.order_id, sku=line.sku,
            node=event.fulfilment_node, quantity=line.quantity, expires_at=expires_at,
        )
        for n, line in enumerate(lines.values())
    ]
    return Step(_with_outbox(state, commands), commands)


def _answered(state: OrderState, answer: HoldAnswered) -> Step:
    line = next((ln for ln in state.lines.values() if ln.hold_id == answer.hold_id), None)
    if line is None:
        return Step(state, verdict="ignored")
    outbox = {cid: raw for cid, raw in state.outbox.items() if cid != answer.command_id}
    hold = _merge(line.hold, answer.answer)
    line = line.model_copy(update={"hold": hold, "reason": answer.reason if hold != line.hold else line.reason})
    state = state.model_copy(update={"outbox": outbox, "lines": {**state.lines, line.sku: line}})
    commands: list[SagaCommand] = []
    statuses: list[OrderStatusChanged] = []
    at = answer.occurred_at
    if state.status == "pending":
        if hold in ("rejected", "released", "expired"):
            reason = f"{line.sku}: {answer.reason or hold}"
            state, statuses = _become(state, "rejected", reason, at)
            commands = _release_all(state, f"order rejected ({reason})"[:200], answer.event_id, at)
        elif all(ln.hold == "granted" or ln.quantity == 0 for ln in state.lines.values()):
            state, statuses = _become(state, "accepted", "every line held", at)
    elif state.status == "accepted" and answer.answer == "expired":
        status: OrderStatus = "no_show" if state.delivery == "pick_up_in_store" else "hold_expired"
        state, statuses = _become(state, status, f"{line.sku}: hold expired at {state.expires_at.isoformat()}", at)
        commands = _release_all(state, f"order {status}", answer.event_id, at)
    elif state.status == "accepted" and answer.answer == "released" and answer.reason == STORE_SALE_CONFLICT:
        state, statuses = _become(state, "stock_conflict", f"{line.sku}: released, a till sold its units", at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _merge(known: HoldState, answer: str) -> HoldState:
    """A hold moves forward only: a late re-sent `granted` never reopens a resolved hold."""
    if known in _RESOLVED_HOLD:
        return known
    return answer  # type: ignore[return-value]  # Answer and HoldState share their values


def _cancelled(state: OrderState, event: OrderCancelled) -> Step:
    if event.event_id in state.seen:
        return Step(state, resend(state), history(state), "duplicate")
    cancel: dict[str, int] = {}
    for cancelled in event.lines:
        cancel[cancelled.sku] = cancel.get(cancelled.sku, 0) + cancelled.quantity
    lines = dict(state.lines)
    commands: list[SagaCommand] = []
    for n, (sku, quantity) in enumerate(cancel.items()):
        line = lines.get(sku)
        if line is None or line.quantity == 0:
            continue
        units = min(quantity, line.quantity)
        lines[sku] = line.model_copy(update={"quantity": line.quantity - units})
        if state.status not in FINAL:
            commands.append(
                ReleaseHold(
                    event_id=derived_id(event.event_id, f"release:{n}"), occurred_at=event.occurred_at,
                    source_node=event.source_node, hold_id=line.hold_id, sku=sku,
                    reason=f"order cancelled: {event.reason}"[:200],
                    quantity=None if units == line.quantity else units,
                )
            )
    state = state.model_copy(update={"lines": lines, "seen": [*state.seen, event.event_id]})
    statuses: list[OrderStatusChanged] = []
    if all(ln.quantity == 0 for ln in lines.values()) and state.status not in FINAL:
        state, statuses = _become(state, "cancelled", event.reason, event.occurred_at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _fulfilled(state: OrderState, event: OrderShipped | OrderPickedUp) -> Step:
    if event.event_id in state.seen or state.status in ("shipped", "picked_up"):
        return Step(state, resend(state), history(state), "duplicate")
    cause: Literal["shipment", "pickup"] = "shipment" if isinstance(event, OrderShipped) else "pickup"
    node = event.fulfilment_node
    commands: list[SagaCommand] = [
        CommitHold(
            event_id=derived_id(event.event_id, f"commit:{n}"), occurred_at=event.occurred_at,
            source_node=node, hold_id=line.hold_id, sku=line.sku, cause=cause,
            node=node, quantity=line.quantity,  # the goods left: taken out even if the hold ended
        )
        for n, line in enumerate(state.lines.values())
        if line.quantity > 0
    ]
    before = state.status
    state = state.model_copy(update={"seen": [*state.seen, event.event_id]})
    reason = "" if before in ("accepted", "pending") else f"left {node} although the order was {before}"
    state, statuses = _become(state, "shipped" if cause == "shipment" else "picked_up", reason, event.occurred_at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _release_all(state: OrderState, reason: str, cause_id: str, at: datetime) -> list[SagaCommand]:
    """Compensate: release every hold that is (or may yet be) granted."""
    return [
        ReleaseHold(
            event_id=derived_id(cause_id, f"release:{n}"), occurred_at=at, source_node="hq",
            hold_id=line.hold_id, sku=line.sku, reason=reason,
        )
        for n, line in enumerate(state.lines.values())
        if line.hold in ("pending", "granted") and line.quantity > 0
    ]


def _become(
    state: OrderState, status: OrderStatus, reason: str, at: datetime
) -> tuple[OrderState, list[OrderStatusChanged]]:
    entry = StatusEntry(status=status, reason=reason, at=at)
    state = state.model_copy(update={"status": status, "history": [*state.history, entry]})
    return state, [_status_event(state, entry)]


def _status_event(state: OrderState, entry: StatusEntry) -> OrderStatusChanged:
    return OrderStatusChanged(
        event_id=derived_id(state.order_id, entry.status),
        occurred_at=entry.at,
        source_node="hq",
        order_id=state.order_id,
        status=entry.status,
        reason=entry.reason[:500],
        delivery=state.delivery,
        fulfilment_node=state.node,
        lines=[OrderLineStatus(sku=ln.sku, quantity=ln.quantity, hold=ln.hold) for ln in state.lines.values()],
        placed_at=state.placed_at,
    )


def _with_outbox(state: OrderState, commands: list[SagaCommand]) -> OrderState:
    if not commands:
        return state
    added = {c.event_id: c.model_dump_json() for c in commands}
    return state.model_copy(update={"outbox": {**state.outbox, **added}})


_COMMAND_TYPES: dict[str, type[SagaCommand]] = {
    "hold.place": PlaceHold, "hold.commit": CommitHold, "hold.release": ReleaseHold,
}


def _type_of(raw: str) -> str:
    for name in _COMMAND_TYPES:
        if f'"type":"{name}"' in raw:
            return name
    raise ValueError(f"not a saga command: {raw[:80]}")

