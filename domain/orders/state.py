"""The order saga's state, its steps, and the helpers every part of the saga shares. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field

from domain.ids import derived_id
from domain.orders.sourcing import Ask
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

    def picking_at(self, node: str) -> bool:
        """Whether `node` still has units of this order to pick (held, not shipped)."""
        return any(not ln.capacity and ln.quantity > 0 and not ln.shipped and self.node_of(ln) == node
                   for ln in self.current())

    def idle_capacity(self) -> list[Line]:
        """Capacity held at nodes that have nothing of this order left to pick."""
        return [ln for ln in self.current()
                if ln.capacity and not ln.shipped and ln.quantity > 0 and not self.picking_at(self.node_of(ln))]


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


def hold_id_for(order_id: str, sku: str) -> str:
    plain = f"{order_id}/{sku}"
    if len(plain) <= HOLD_ID_MAX:
        return plain
    return f"d-{hashlib.sha256(plain.encode()).hexdigest()[:40]}/{sku}"


def resend(state: OrderState) -> list[SagaCommand]:
    """Every command not yet answered, as first sent (same ids: idempotent at the authority)."""
    out: list[SagaCommand] = []
    for raw in state.outbox.values():
        kind = _COMMAND_TYPES[_type_of(raw)]
        out.append(kind.model_validate_json(raw))
    return out


def history(state: OrderState) -> list[OrderStatusChanged]:
    return [status_event(state, entry) for entry in state.history]


def release(lines: list[Line], reason: str, cause_id: str, at: datetime) -> list[SagaCommand]:
    """Release every one of `lines` that is (or may yet be) granted."""
    return [
        ReleaseHold(
            event_id=derived_id(cause_id, f"release:{line.hold_id}"[:150]), occurred_at=at, source_node="hq",
            hold_id=line.hold_id, sku=line.sku, reason=reason[:200],
        )
        for line in lines
        if line.hold in ("pending", "granted") and line.quantity > 0 and not line.shipped
    ]


def free_idle_capacity(state: OrderState, cause_id: str, at: datetime) -> tuple[OrderState, list[SagaCommand]]:
    """Release (and retire) the capacity of nodes left with nothing to pick: a cancelled, moved or
    short-picked part takes its slot back."""
    idle = state.idle_capacity()
    if not idle:
        return state, []
    commands = release(idle, "nothing left to pick at this node", cause_id, at)
    lines = {k: (ln.model_copy(update={"active": False}) if ln in idle else ln) for k, ln in state.lines.items()}
    return state.model_copy(update={"lines": lines}), commands


def release_all(state: OrderState, reason: str, cause_id: str, at: datetime) -> list[SagaCommand]:
    """Compensate: release every hold that is (or may yet be) granted."""
    return [
        ReleaseHold(
            event_id=derived_id(cause_id, f"release:{n}"), occurred_at=at, source_node="hq",
            hold_id=line.hold_id, sku=line.sku, reason=reason,
        )
        for n, line in enumerate(state.current())
        if line.hold in ("pending", "granted") and line.quantity > 0 and not line.shipped
    ]


def become(
    state: OrderState, status: OrderStatus, reason: str, at: datetime
) -> tuple[OrderState, list[OrderStatusChanged]]:
    if any(entry.status == status for entry in state.history):
        return state.model_copy(update={"status": status}), []  # each status at most once
    entry = StatusEntry(status=status, reason=reason, at=at)
    state = state.model_copy(update={"status": status, "history": [*state.history, entry]})
    return state, [status_event(state, entry)]


def status_event(state: OrderState, entry: StatusEntry) -> OrderStatusChanged:
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


def with_outbox(state: OrderState, commands: list[SagaCommand]) -> OrderState:
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
