"""The order saga's decision: one input applied to an order's state. Pure (see the package docstring)."""

from __future__ import annotations

from typing import Literal

from domain.holds import STORE_SALE_CONFLICT
from domain.ids import derived_id
from domain.orders.resourcing import can_retry, responded, retry, source_part, stray
from domain.orders.sourcing import Sourcer, ask_of
from domain.orders.state import (
    _RESOLVED_HOLD,
    FINAL,
    HoldState,
    Line,
    OrderState,
    SagaCommand,
    SagaInput,
    Step,
    TtlFor,
    become,
    free_idle_capacity,
    history,
    hold_id_for,
    release_all,
    resend,
    with_outbox,
)
from streams.fulfilment import StoreResponded
from streams.holds import CommitHold, HoldAnswered, PlaceHold, ReleaseHold
from streams.orders import (
    OrderCancelled,
    OrderPickedUp,
    OrderPlaced,
    OrderShipped,
    OrderStatus,
    OrderStatusChanged,
)

MAX_HOLD_UNITS = 100_000  # PlaceHold.quantity's bound: one hold cannot promise more


def decide(state: OrderState | None, event: SagaInput, topic: str, offset: int, ttl_for: TtlFor,
           source: Sourcer | None = None) -> Step:
    """Apply one input, read at `offset` of `topic`, to the order's state."""
    if state is not None and offset <= state.offsets.get(topic, -1):
        return Step(state, resend(state), history(state), "redelivered")
    match event:
        case OrderPlaced():
            step = _placed(state, event, ttl_for, source)
        case HoldAnswered():
            step = _answered(state, event, source) if state is not None else Step(None, verdict="ignored")
        case OrderCancelled():
            step = _cancelled(state, event) if state is not None else Step(None, verdict="ignored")
        case OrderShipped() | OrderPickedUp():
            step = _fulfilled(state, event) if state is not None else Step(None, verdict="ignored")
        case StoreResponded():
            step = responded(state, event, source) if state is not None else Step(None, verdict="ignored")
    if step.state is None:
        return step
    offsets = {**step.state.offsets, topic: offset}
    new_state = step.state.model_copy(update={"offsets": offsets})
    return Step(new_state, step.commands, step.statuses, step.verdict, step.decisions, step.suggestions)


def _placed(state: OrderState | None, event: OrderPlaced, ttl_for: TtlFor, source: Sourcer | None) -> Step:
    if state is not None:  # the same order again: answer as before
        return Step(state, resend(state), history(state), "duplicate")
    expires_at = event.occurred_at + ttl_for(event.delivery)
    wanted: dict[str, int] = {}
    for line in event.lines:  # the same SKU on several lines is one hold for their sum
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    too_many = sorted(sku for sku, units in wanted.items() if units > MAX_HOLD_UNITS)
    if too_many:  # more than one hold may promise: a clear answer, not a command that cannot be sent
        refused = OrderState(order_id=event.order_id, delivery=event.delivery, node=event.node,
                             placed_at=event.occurred_at, expires_at=expires_at)
        refused, statuses = become(refused, "rejected", f"{', '.join(too_many)}: more than {MAX_HOLD_UNITS:,} "
                                                        "units of one SKU in one order", event.occurred_at)
        return Step(refused, [], statuses)
    if not event.pinned:
        fresh = OrderState(order_id=event.order_id, delivery=event.delivery, node=None, placed_at=event.occurred_at,
                           expires_at=expires_at, ask=ask_of(event))
        asked = {line.sku: line.quantity for line in fresh.ask.lines} if fresh.ask else {}
        return source_part(fresh, asked, event.event_id, event.occurred_at, source)
    node = event.fulfilment_node or ""
    lines = {sku: Line(sku=sku, hold_id=hold_id_for(event.order_id, sku), quantity=q) for sku, q in wanted.items()}
    state = OrderState(
        order_id=event.order_id, delivery=event.delivery, node=node,
        placed_at=event.occurred_at, expires_at=expires_at, lines=lines,
    )
    commands: list[SagaCommand] = [
        PlaceHold(
            event_id=derived_id(event.event_id, f"hold:{n}"), occurred_at=event.occurred_at,
            source_node=event.source_node, hold_id=line.hold_id, order_id=event.order_id, sku=line.sku,
            node=node, quantity=line.quantity, expires_at=expires_at,
        )
        for n, line in enumerate(lines.values())
    ]
    return Step(with_outbox(state, commands), commands)


def _answered(state: OrderState, answer: HoldAnswered, source: Sourcer | None) -> Step:
    line = next((ln for ln in state.lines.values() if ln.hold_id == answer.hold_id), None)
    if line is None:
        return stray(state, answer)
    outbox = {cid: raw for cid, raw in state.outbox.items() if cid != answer.command_id}
    hold = _merge(line.hold, answer.answer)
    line = line.model_copy(update={"hold": hold, "reason": answer.reason if hold != line.hold else line.reason})
    key = next(k for k, ln in state.lines.items() if ln.hold_id == answer.hold_id)
    state = state.model_copy(update={"outbox": outbox, "lines": {**state.lines, key: line}})
    commands: list[SagaCommand] = []
    statuses: list[OrderStatusChanged] = []
    at = answer.occurred_at
    if not line.active:
        return Step(state)  # a superseded attempt's hold: already released
    if state.status in ("pending", "accepted") and hold == "rejected" and can_retry(state):
        return retry(state, line, answer, source)
    if state.status == "pending":
        if hold in ("rejected", "released", "expired"):
            reason = f"{line.sku}: {answer.reason or hold}"
            if state.attempt:
                reason = f"{reason} (attempt {state.attempt} of {state.max_attempts})"
            state, statuses = become(state, "rejected", reason, at)
            commands = release_all(state, f"order rejected ({reason})"[:200], answer.event_id, at)
        elif all(ln.hold == "granted" or ln.quantity == 0 for ln in state.current()):
            state, statuses = become(state, "accepted", "every line held", at)
    elif state.status == "accepted" and hold == "rejected":  # a re-sourced part, out of attempts
        reason = f"{line.sku}: {answer.reason or hold} (attempt {state.attempt} of {state.max_attempts})"
        state, statuses = become(state, "rejected", reason, at)
        commands = release_all(state, f"order rejected ({reason})"[:200], answer.event_id, at)
    elif state.status == "accepted" and answer.answer == "expired":
        status: OrderStatus = "no_show" if state.delivery == "pick_up_in_store" else "hold_expired"
        state, statuses = become(state, status, f"{line.sku}: hold expired at {state.expires_at.isoformat()}", at)
        commands = release_all(state, f"order {status}", answer.event_id, at)
    elif state.status == "accepted" and answer.answer == "released" and answer.reason == STORE_SALE_CONFLICT:
        state, statuses = become(state, "stock_conflict", f"{line.sku}: released, a till sold its units", at)
    return Step(with_outbox(state, commands), commands, statuses)


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
    n = 0
    for sku, quantity in cancel.items():
        for key, line in list(lines.items()):  # units that have not left yet
            if quantity <= 0 or line.sku != sku or line.capacity or not line.active or line.quantity == 0 \
                    or line.shipped:
                continue
            units = min(quantity, line.quantity)
            quantity -= units
            lines[key] = line.model_copy(update={"quantity": line.quantity - units})
            if state.status not in FINAL:
                commands.append(
                    ReleaseHold(
                        event_id=derived_id(event.event_id, f"release:{n}"), occurred_at=event.occurred_at,
                        source_node=event.source_node, hold_id=line.hold_id, sku=sku,
                        reason=f"order cancelled: {event.reason}"[:200],
                        quantity=None if units == line.quantity else units,
                    )
                )
                n += 1
    state = state.model_copy(update={"lines": lines, "seen": [*state.seen, event.event_id]})
    statuses: list[OrderStatusChanged] = []
    to_pick = [ln for ln in state.current() if not ln.capacity and ln.quantity > 0 and not ln.shipped]
    if not to_pick and state.status not in FINAL:
        shipped = any(ln.shipped and not ln.capacity for ln in state.current())
        if shipped:  # the rest left already: the order is complete with what shipped
            state, statuses = become(state, "shipped", f"the rest cancelled: {event.reason}", event.occurred_at)
        else:
            state, statuses = become(state, "cancelled", event.reason, event.occurred_at)
    if state.status not in ("rejected", "no_show", "hold_expired"):
        state, freed = free_idle_capacity(state, event.event_id, event.occurred_at)
        commands += freed
    return Step(with_outbox(state, commands), commands, statuses)


def _fulfilled(state: OrderState, event: OrderShipped | OrderPickedUp) -> Step:
    if event.event_id in state.seen or state.status in ("shipped", "picked_up"):
        return Step(state, resend(state), history(state), "duplicate")
    cause: Literal["shipment", "pickup"] = "shipment" if isinstance(event, OrderShipped) else "pickup"
    node = event.fulfilment_node
    leaving = [ln for ln in state.current() if ln.quantity > 0 and not ln.shipped
               and (node is None or state.node_of(ln) == node)
               and (not ln.capacity or state.picking_at(state.node_of(ln)))]  # a slot is used if goods leave
    commands: list[SagaCommand] = [
        CommitHold(
            event_id=derived_id(event.event_id, f"commit:{n}"), occurred_at=event.occurred_at,
            source_node=state.node_of(line), hold_id=line.hold_id, sku=line.sku, cause=cause,
            node=state.node_of(line), quantity=line.quantity,  # the goods left: taken out even if the hold ended
        )
        for n, line in enumerate(leaving)
    ]
    lines = {k: (ln.model_copy(update={"shipped": True}) if ln in leaving else ln) for k, ln in state.lines.items()}
    before = state.status
    state = state.model_copy(update={"seen": [*state.seen, event.event_id], "lines": lines})
    statuses: list[OrderStatusChanged] = []
    if all(ln.shipped or ln.quantity == 0 for ln in state.current() if not ln.capacity):
        where = node or ", ".join(state.nodes) or "its node"
        reason = "" if before in ("accepted", "pending") else f"left {where} although the order was {before}"
        state, statuses = become(state, "shipped" if cause == "shipment" else "picked_up", reason,
                                  event.occurred_at)
    state, freed = free_idle_capacity(state, event.event_id, event.occurred_at)
    commands += freed
    return Step(with_outbox(state, commands), commands, statuses)
