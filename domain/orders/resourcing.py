"""Sourced orders in the saga: deciding where from, deciding again, and a node's no. Pure."""

from __future__ import annotations

from datetime import datetime

from domain.fulfilment.sourcing import Request
from domain.ids import derived_id
from domain.orders.sourcing import Sourced, Sourcer, decided_event, planned_holds, request_of, suggestions
from domain.orders.state import (
    FINAL,
    Line,
    OrderState,
    SagaCommand,
    Step,
    become,
    free_idle_capacity,
    history,
    release,
    release_all,
    resend,
    with_outbox,
)
from streams.fulfilment import StoreResponded
from streams.holds import HoldAnswered, PlaceHold, ReleaseHold
from streams.orders import (
    OrderStatusChanged,
)


def _no_sourcing(_request: Request) -> Sourced:
    raise ValueError("this saga was given no sourcer: orders without a fulfilment_node cannot be sourced")


def source_part(state: OrderState, wanted: dict[str, int], cause_id: str, at: datetime, source: Sourcer | None,
            commands: list[SagaCommand] | None = None) -> Step:
    """Decide where `wanted` comes from (a new attempt) and place its holds; or reject, or wait."""
    assert state.ask is not None
    wanted = {sku: units for sku, units in wanted.items() if units > 0}
    if not wanted:  # nothing left to place: keep what is held
        return Step(with_outbox(state, list(commands or [])), list(commands or []))
    attempt = state.attempt + 1
    request = request_of(state.order_id, state.ask, wanted, at, state.excluded)
    sourced = (source or _no_sourcing)(request)
    decision = sourced.decision
    state = state.model_copy(update={"attempt": attempt, "max_attempts": sourced.max_attempts})
    commands = list(commands or [])
    statuses: list[OrderStatusChanged] = []
    made = [decided_event(state.order_id, attempt, sourced, request, at)]
    if decision.outcome == "rejected":
        state, statuses = become(state, "rejected", f"no plan (attempt {attempt}): {decision.reason}", at)
        commands += release_all(state, "order rejected: no plan", cause_id, at)
        return Step(with_outbox(state, commands), commands, statuses, decisions=made)
    if decision.outcome == "waiting":
        pickup = request.pickup_node or ""
        state = state.model_copy(update={"node": pickup})
        if state.status != "waiting":
            state, statuses = become(state, "waiting", decision.reason, at)
        waiting = suggestions(state.order_id, pickup, decision, cause_id, at)
        return Step(with_outbox(state, commands), commands, statuses, decisions=made, suggestions=waiting)
    lines = dict(state.lines)
    for n, planned in enumerate(planned_holds(state.order_id, attempt, decision)):
        lines[planned.hold_id] = Line(sku=planned.sku, hold_id=planned.hold_id, quantity=planned.quantity,
                                      node=planned.node, attempt=attempt, capacity=planned.capacity)
        commands.append(PlaceHold(
            event_id=derived_id(cause_id, f"hold:{attempt}:{n}"), occurred_at=at, source_node="hq",
            hold_id=planned.hold_id, order_id=state.order_id, sku=planned.sku, node=planned.node,
            quantity=planned.quantity, expires_at=state.expires_at,
        ))
    first = decision.shipments[0].node if decision.shipments else state.node
    state = state.model_copy(update={"lines": lines, "node": state.node or first})
    return Step(with_outbox(state, commands), commands, statuses, decisions=made)


def stray(state: OrderState, answer: HoldAnswered) -> Step:
    """A granted hold of this order that no line knows: a plan lost in a crash. Release it."""
    if answer.answer != "granted" or not answer.hold_id.startswith(f"{state.order_id}/"):
        return Step(state, verdict="ignored")
    release = ReleaseHold(
        event_id=derived_id(answer.event_id, "stray"), occurred_at=answer.occurred_at, source_node="hq",
        hold_id=answer.hold_id, sku=answer.sku, reason="not part of the order's plan",
    )
    return Step(state, [release])


def can_retry(state: OrderState) -> bool:
    return state.ask is not None and state.attempt < state.max_attempts


def retry(state: OrderState, refused: Line, answer: HoldAnswered, source: Sourcer | None) -> Step:
    """A refused hold: the snapshot was stale. Release the attempt's open holds, decide again without it."""
    pickup = state.ask is not None and state.ask.method == "pickup"  # a pick-up never leaves its store
    option = refused.node if refused.capacity and not pickup else f"{refused.sku}@{refused.node}"
    attempt = refused.attempt
    part = [ln for ln in state.current() if ln.attempt == attempt]
    wanted: dict[str, int] = {}
    for ln in part:
        if not ln.capacity:
            wanted[ln.sku] = wanted.get(ln.sku, 0) + ln.quantity
    commands = release(part, f"re-sourcing: {refused.sku} refused at {refused.node}", answer.event_id,
                        answer.occurred_at)
    lines = {k: (ln.model_copy(update={"active": False}) if ln in part else ln) for k, ln in state.lines.items()}
    state = state.model_copy(update={"lines": lines, "excluded": sorted({*state.excluded, str(option)})})
    return source_part(state, wanted, answer.event_id, answer.occurred_at, source, commands)


def responded(state: OrderState, event: StoreResponded, source: Sourcer | None) -> Step:
    """A node rejects its part or picks short: release those units (and its capacity slot when it is
    left with nothing to pick) and source them again without that node (without that SKU there,
    for a short pick or a pick-up store)."""
    if event.event_id in state.seen:
        return Step(state, resend(state), history(state), "duplicate")
    state = state.model_copy(update={"seen": [*state.seen, event.event_id]})
    at_node = [ln for ln in state.current() if state.node_of(ln) == event.node and not ln.shipped
               and not ln.capacity and ln.quantity > 0]
    if state.status in FINAL or not at_node:
        return Step(state, verdict="ignored")
    held: dict[str, int] = {}
    for ln in at_node:
        held[ln.sku] = held.get(ln.sku, 0) + ln.quantity
    if event.response == "rejected":
        short = held
    else:  # only what the node holds of the order, at most what it holds
        asked: dict[str, int] = {}
        for pl in event.lines:
            asked[pl.sku] = asked.get(pl.sku, 0) + pl.quantity
        short = {sku: min(units, held[sku]) for sku, units in asked.items() if sku in held}
    if not short:
        return Step(state, verdict="ignored")
    pickup = state.ask is not None and state.ask.method == "pickup"
    whole = event.response == "rejected" and not pickup
    excluded = {event.node} if whole else {f"{sku}@{event.node}" for sku in short}
    commands: list[SagaCommand] = []
    lines = dict(state.lines)
    left = dict(short)
    for n, ln in enumerate(at_node):
        units = min(left.get(ln.sku, 0), ln.quantity)
        if units <= 0:
            continue
        left[ln.sku] -= units
        if ln.hold in ("pending", "granted"):
            commands.append(ReleaseHold(
                event_id=derived_id(event.event_id, f"{event.response}:{n}"), occurred_at=event.occurred_at,
                source_node="hq", hold_id=ln.hold_id, sku=ln.sku,
                reason=f"{event.node} {event.response}: {event.reason}"[:200],
                quantity=None if units == ln.quantity else units,
            ))
        key = next(k for k, v in lines.items() if v.hold_id == ln.hold_id)
        lines[key] = ln.model_copy(update={"quantity": ln.quantity - units, "active": units < ln.quantity})
    state = state.model_copy(update={"lines": lines, "excluded": sorted({*state.excluded, *excluded})})
    state, freed = free_idle_capacity(state, event.event_id, event.occurred_at)
    commands += freed
    if state.ask is None:  # a pinned order has nowhere else to go
        state, statuses = become(state, "rejected", f"{event.node} {event.response}: {event.reason}",
                                 event.occurred_at)
        commands += release_all(state, "order rejected by its node", event.event_id, event.occurred_at)
        return Step(with_outbox(state, commands), commands, statuses)
    return source_part(state, short, event.event_id, event.occurred_at, source, commands)
