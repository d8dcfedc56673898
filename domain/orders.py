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

An order placed without a node is sourced (`domain/order_sourcing.py`): the plan's holds (stock
per SKU and node, and one capacity hold per shipment) are placed the same way. A refused hold
means the snapshot was stale: the attempt's holds are released and the order decided again
without that option, up to the profile's attempts. A node that rejects its part, or picks
short, has that part released and re-sourced elsewhere; a pick-up order is never moved to
another store: it `waiting`s for the customer or a transfer. A granted hold the order does not
know (a plan lost in a crash and decided differently) is released.

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

from domain.fulfilment.sourcing import Request
from domain.holds import STORE_SALE_CONFLICT
from domain.ids import derived_id
from domain.order_sourcing import Ask, Sourced, Sourcer, ask_of, decided_event, planned_holds, request_of, suggestions
from streams.base import Record, UtcDatetime
from streams.fulfilment import FulfilmentDecided, StoreResponded, TransferSuggested
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
SagaInput = OrderPlaced | OrderCancelled | OrderShipped | OrderPickedUp | HoldAnswered | StoreResponded
FINAL: frozenset[str] = frozenset({"rejected", "cancelled", "shipped", "picked_up", "no_show", "hold_expired"})
_RESOLVED_HOLD: frozenset[str] = frozenset({"rejected", "committed", "released", "expired"})
HOLD_ID_MAX = 160


class Line(Record):
    """One hold of the order: units of a SKU (or a capacity slot) at a node, and its state as last answered."""

    sku: str
    hold_id: str
    quantity: int
    hold: HoldState = "pending"
    reason: str | None = None
    node: str | None = None  # None: the order's own node (a pinned order)
    attempt: int = 0  # 0: pinned; a sourced order's decisions count from 1
    capacity: bool = False  # a hold on the node's pick/pack capacity, not on stock
    active: bool = True  # False: released to re-source it (a refused option, a store's no)
    shipped: bool = False


class StatusEntry(Record):
    status: OrderStatus
    reason: str
    at: UtcDatetime


class OrderState(Record):
    order_id: str
    delivery: DeliveryMode
    node: str | None
    placed_at: UtcDatetime
    expires_at: UtcDatetime
    status: SagaStatus = "pending"
    lines: dict[str, Line] = Field(default_factory=dict)  # by SKU (pinned) or by hold id (sourced)
    outbox: dict[str, str] = Field(default_factory=dict)  # command id -> the command's JSON
    history: list[StatusEntry] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list)  # ids of cancellations, fulfilments and responses applied
    offsets: dict[str, int] = Field(default_factory=dict)  # topic -> last offset applied
    ask: Ask | None = None  # a sourced order: what it asks for, to decide again
    attempt: int = 0
    max_attempts: int = 1
    excluded: list[str] = Field(default_factory=list)  # `node` or `sku@node` ruled out

    def current(self) -> list[Line]:
        return [line for line in self.lines.values() if line.active]

    def node_of(self, line: Line) -> str:
        return line.node or self.node or ""

    @property
    def nodes(self) -> list[str]:
        return sorted({self.node_of(line) for line in self.current() if line.quantity > 0})


@dataclass(frozen=True)
class Step:
    """What one input did: the order's new state and what to send."""

    state: OrderState | None
    commands: list[SagaCommand] = field(default_factory=list)
    statuses: list[OrderStatusChanged] = field(default_factory=list)
    verdict: Literal["applied", "redelivered", "duplicate", "ignored"] = "applied"
    # New sourcing decisions; the stage keeps them apart from the order (tables/orders.py), and
    # sends them again with a redelivered or duplicate input's statuses.
    decisions: list[FulfilmentDecided] = field(default_factory=list)
    suggestions: list[TransferSuggested] = field(default_factory=list)


TtlFor = Callable[[DeliveryMode], timedelta]


def _no_sourcing(_request: Request) -> Sourced:
    raise ValueError("this saga was given no sourcer: orders without a fulfilment_node cannot be sourced")


def hold_id_for(order_id: str, sku: str) -> str:
    plain = f"{order_id}/{sku}"
    if len(plain) <= HOLD_ID_MAX:
        return plain
    return f"d-{hashlib.sha256(plain.encode()).hexdigest()[:40]}/{sku}"


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
            step = _responded(state, event, source) if state is not None else Step(None, verdict="ignored")
    if step.state is None:
        return step
    offsets = {**step.state.offsets, topic: offset}
    new_state = step.state.model_copy(update={"offsets": offsets})
    return Step(new_state, step.commands, step.statuses, step.verdict, step.decisions, step.suggestions)


def resend(state: OrderState) -> list[SagaCommand]:
    """Every command not yet answered, as first sent (same ids: idempotent at the authority)."""
    out: list[SagaCommand] = []
    for raw in state.outbox.values():
        kind = _COMMAND_TYPES[_type_of(raw)]
        out.append(kind.model_validate_json(raw))
    return out


def history(state: OrderState) -> list[OrderStatusChanged]:
    return [_status_event(state, entry) for entry in state.history]


def _placed(state: OrderState | None, event: OrderPlaced, ttl_for: TtlFor, source: Sourcer | None) -> Step:
    if state is not None:  # the same order again: answer as before
        return Step(state, resend(state), history(state), "duplicate")
    expires_at = event.occurred_at + ttl_for(event.delivery)
    if not event.pinned:
        fresh = OrderState(order_id=event.order_id, delivery=event.delivery, node=None, placed_at=event.occurred_at,
                           expires_at=expires_at, ask=ask_of(event))
        asked = {line.sku: line.quantity for line in fresh.ask.lines} if fresh.ask else {}
        return _source(fresh, asked, event.event_id, event.occurred_at, source)
    node = event.fulfilment_node or ""
    wanted: dict[str, int] = {}
    for line in event.lines:  # the same SKU on several lines is one hold for their sum
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
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
    return Step(_with_outbox(state, commands), commands)


def _source(state: OrderState, wanted: dict[str, int], cause_id: str, at: datetime, source: Sourcer | None,
            commands: list[SagaCommand] | None = None) -> Step:
    """Decide where `wanted` comes from (a new attempt) and place its holds; or reject, or wait."""
    assert state.ask is not None
    attempt = state.attempt + 1
    request = request_of(state.order_id, state.ask, wanted, at, state.excluded)
    sourced = (source or _no_sourcing)(request)
    decision = sourced.decision
    state = state.model_copy(update={"attempt": attempt, "max_attempts": sourced.max_attempts})
    commands = list(commands or [])
    statuses: list[OrderStatusChanged] = []
    made = [decided_event(state.order_id, attempt, sourced, request, cause_id, at)]
    if decision.outcome == "rejected":
        state, statuses = _become(state, "rejected", f"no plan (attempt {attempt}): {decision.reason}", at)
        commands += _release_all(state, "order rejected: no plan", cause_id, at)
        return Step(_with_outbox(state, commands), commands, statuses, decisions=made)
    if decision.outcome == "waiting":
        pickup = request.pickup_node or ""
        state = state.model_copy(update={"node": pickup})
        if state.status != "waiting":
            state, statuses = _become(state, "waiting", decision.reason, at)
        waiting = suggestions(state.order_id, pickup, decision, cause_id, at)
        return Step(_with_outbox(state, commands), commands, statuses, decisions=made, suggestions=waiting)
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
    return Step(_with_outbox(state, commands), commands, statuses, decisions=made)


def _answered(state: OrderState, answer: HoldAnswered, source: Sourcer | None) -> Step:
    line = next((ln for ln in state.lines.values() if ln.hold_id == answer.hold_id), None)
    if line is None:
        return _stray(state, answer)
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
    if state.status in ("pending", "accepted") and hold == "rejected" and _can_retry(state):
        return _retry(state, line, answer, source)
    if state.status == "pending":
        if hold in ("rejected", "released", "expired"):
            reason = f"{line.sku}: {answer.reason or hold}"
            if state.attempt:
                reason = f"{reason} (attempt {state.attempt} of {state.max_attempts})"
            state, statuses = _become(state, "rejected", reason, at)
            commands = _release_all(state, f"order rejected ({reason})"[:200], answer.event_id, at)
        elif all(ln.hold == "granted" or ln.quantity == 0 for ln in state.current()):
            state, statuses = _become(state, "accepted", "every line held", at)
    elif state.status == "accepted" and hold == "rejected":  # a re-sourced part, out of attempts
        reason = f"{line.sku}: {answer.reason or hold} (attempt {state.attempt} of {state.max_attempts})"
        state, statuses = _become(state, "rejected", reason, at)
        commands = _release_all(state, f"order rejected ({reason})"[:200], answer.event_id, at)
    elif state.status == "accepted" and answer.answer == "expired":
        status: OrderStatus = "no_show" if state.delivery == "pick_up_in_store" else "hold_expired"
        state, statuses = _become(state, status, f"{line.sku}: hold expired at {state.expires_at.isoformat()}", at)
        commands = _release_all(state, f"order {status}", answer.event_id, at)
    elif state.status == "accepted" and answer.answer == "released" and answer.reason == STORE_SALE_CONFLICT:
        state, statuses = _become(state, "stock_conflict", f"{line.sku}: released, a till sold its units", at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _stray(state: OrderState, answer: HoldAnswered) -> Step:
    """A granted hold of this order that no line knows: a plan lost in a crash. Release it."""
    if answer.answer != "granted" or not answer.hold_id.startswith(f"{state.order_id}/"):
        return Step(state, verdict="ignored")
    release = ReleaseHold(
        event_id=derived_id(answer.event_id, "stray"), occurred_at=answer.occurred_at, source_node="hq",
        hold_id=answer.hold_id, sku=answer.sku, reason="not part of the order's plan",
    )
    return Step(state, [release])


def _can_retry(state: OrderState) -> bool:
    return state.ask is not None and state.attempt < state.max_attempts


def _retry(state: OrderState, refused: Line, answer: HoldAnswered, source: Sourcer | None) -> Step:
    """A refused hold: the snapshot was stale. Release the attempt's open holds, decide again without it."""
    option = refused.node if refused.capacity else f"{refused.sku}@{refused.node}"
    attempt = refused.attempt
    part = [ln for ln in state.current() if ln.attempt == attempt]
    wanted: dict[str, int] = {}
    for ln in part:
        if not ln.capacity:
            wanted[ln.sku] = wanted.get(ln.sku, 0) + ln.quantity
    commands = _release(part, f"re-sourcing: {refused.sku} refused at {refused.node}", answer.event_id,
                        answer.occurred_at)
    lines = {k: (ln.model_copy(update={"active": False}) if ln in part else ln) for k, ln in state.lines.items()}
    state = state.model_copy(update={"lines": lines, "excluded": sorted({*state.excluded, str(option)})})
    return _source(state, wanted, answer.event_id, answer.occurred_at, source, commands)


def _responded(state: OrderState, event: StoreResponded, source: Sourcer | None) -> Step:
    """A node rejects its part or picks short: release that part, source it again without the node."""
    if event.event_id in state.seen:
        return Step(state, resend(state), history(state), "duplicate")
    state = state.model_copy(update={"seen": [*state.seen, event.event_id]})
    at_node = [ln for ln in state.current() if state.node_of(ln) == event.node and not ln.shipped]
    if state.status in FINAL or not at_node:
        return Step(state, verdict="ignored")
    if event.response == "rejected":
        short = {ln.sku: ln.quantity for ln in at_node if not ln.capacity}
        released = at_node
        excluded = {event.node}
    else:
        short = {pl.sku: pl.quantity for pl in event.lines}
        released = [ln for ln in at_node if ln.sku in short or ln.capacity]
        excluded = {f"{sku}@{event.node}" for sku in short}
        if any(not ln.capacity and ln.quantity > short.get(ln.sku, 0) for ln in released):
            return _short_part(state, event, released, short, source, excluded)
    commands = _release(released, f"{event.node} {event.response}: {event.reason}", event.event_id,
                        event.occurred_at)
    lines = {k: (ln.model_copy(update={"active": False}) if ln in released else ln) for k, ln in state.lines.items()}
    state = state.model_copy(update={"lines": lines, "excluded": sorted({*state.excluded, *excluded})})
    if state.ask is None:  # a pinned order has nowhere else to go
        state, statuses = _become(state, "rejected", f"{event.node} {event.response}: {event.reason}",
                                  event.occurred_at)
        commands += _release_all(state, "order rejected by its node", event.event_id, event.occurred_at)
        return Step(_with_outbox(state, commands), commands, statuses)
    return _source(state, short, event.event_id, event.occurred_at, source, commands)


def _short_part(state: OrderState, event: StoreResponded, released: list[Line], short: dict[str, int],
                source: Sourcer | None, excluded: set[str]) -> Step:
    """A short pick: the node keeps what it picked; only the missing units are released and re-sourced."""
    commands: list[SagaCommand] = []
    lines = dict(state.lines)
    for n, ln in enumerate(line for line in released if not line.capacity):
        units = min(short.get(ln.sku, 0), ln.quantity)
        if units <= 0:
            continue
        commands.append(ReleaseHold(
            event_id=derived_id(event.event_id, f"short:{n}"), occurred_at=event.occurred_at, source_node="hq",
            hold_id=ln.hold_id, sku=ln.sku, reason=f"short pick at {event.node}"[:200],
            quantity=None if units == ln.quantity else units,
        ))
        key = next(k for k, v in lines.items() if v.hold_id == ln.hold_id)
        lines[key] = ln.model_copy(update={"quantity": ln.quantity - units})
    state = state.model_copy(update={"lines": lines, "excluded": sorted({*state.excluded, *excluded})})
    if state.ask is None:
        return Step(_with_outbox(state, commands), commands)
    return _source(state, short, event.event_id, event.occurred_at, source, commands)


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
        for key, line in list(lines.items()):
            if quantity <= 0 or line.sku != sku or line.capacity or not line.active or line.quantity == 0:
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
    stock_left = [ln for ln in state.current() if not ln.capacity and ln.quantity > 0]
    if not stock_left and state.status not in FINAL:
        state, statuses = _become(state, "cancelled", event.reason, event.occurred_at)
        commands += _release([ln for ln in state.current() if ln.capacity], "order cancelled", event.event_id,
                             event.occurred_at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _fulfilled(state: OrderState, event: OrderShipped | OrderPickedUp) -> Step:
    if event.event_id in state.seen or state.status in ("shipped", "picked_up"):
        return Step(state, resend(state), history(state), "duplicate")
    cause: Literal["shipment", "pickup"] = "shipment" if isinstance(event, OrderShipped) else "pickup"
    node = event.fulfilment_node
    leaving = [ln for ln in state.current() if ln.quantity > 0 and not ln.shipped
               and (node is None or state.node_of(ln) == node)]
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
    if all(ln.shipped or ln.quantity == 0 for ln in state.current()):
        where = node or ", ".join(state.nodes) or "its node"
        reason = "" if before in ("accepted", "pending") else f"left {where} although the order was {before}"
        state, statuses = _become(state, "shipped" if cause == "shipment" else "picked_up", reason,
                                  event.occurred_at)
    return Step(_with_outbox(state, commands), commands, statuses)


def _release(lines: list[Line], reason: str, cause_id: str, at: datetime) -> list[SagaCommand]:
    """Release every one of `lines` that is (or may yet be) granted."""
    return [
        ReleaseHold(
            event_id=derived_id(cause_id, f"release:{line.hold_id}"[:150]), occurred_at=at, source_node="hq",
            hold_id=line.hold_id, sku=line.sku, reason=reason[:200],
        )
        for line in lines
        if line.hold in ("pending", "granted") and line.quantity > 0 and not line.shipped
    ]


def _release_all(state: OrderState, reason: str, cause_id: str, at: datetime) -> list[SagaCommand]:
    """Compensate: release every hold that is (or may yet be) granted."""
    return [
        ReleaseHold(
            event_id=derived_id(cause_id, f"release:{n}"), occurred_at=at, source_node="hq",
            hold_id=line.hold_id, sku=line.sku, reason=reason,
        )
        for n, line in enumerate(state.current())
        if line.hold in ("pending", "granted") and line.quantity > 0 and not line.shipped
    ]


def _become(
    state: OrderState, status: OrderStatus, reason: str, at: datetime
) -> tuple[OrderState, list[OrderStatusChanged]]:
    if any(entry.status == status for entry in state.history):
        return state.model_copy(update={"status": status}), []  # each status at most once
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
        fulfilment_node=state.node or None,
        lines=[OrderLineStatus(sku=ln.sku, quantity=ln.quantity, hold=ln.hold, node=ln.node)
               for ln in state.current() if not ln.capacity][:500],
        placed_at=state.placed_at,
        nodes=state.nodes[:10],
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
